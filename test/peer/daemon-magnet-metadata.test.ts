// A .torrent added to the real daemon (dist/btpeer daemon) while a magnet link of its info hash still waits
// for metadata nobody can send (its one peer never answers, no DHT): the add is a duplicate, as before, but
// the magnet link takes the .torrent's metadata and the trackers it lacks, and downloads from the real seeder
// that only the .torrent's tracker knows; a restart finds the torrent with its metadata. Through the native
// API (409 duplicate) and through qBittorrent's torrents/add ("Fails.").
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import path from "node:path";
import type { TorrentDetail, TorrentSummary } from "../../peer/daemon/control.ts";
import { toHex } from "../../shared/bytes.ts";
import { formatMagnet } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { expectSameTree } from "../support/seed-fixture.ts";
import { makeTorrent, startBtpeer, startTracker, type Tracker } from "./btpeer-harness.ts";
import { type DaemonProcess, startDaemon, torrentEvent } from "./daemon-harness.ts";

let work = "";
let tracker: Tracker;
let torrentFile = "";
let meta: Metainfo;
let hash = "";
/** A tracker the magnet link names that nobody answers at: kept in the merged list, ahead of the .torrent's. */
const deadTracker = `http://127.0.0.1:${freePort()}/announce`;

beforeAll(async () => {
  work = makeTempDir("btpeer-daemon-magnet-metadata-");
  const folder = path.join(work, "seed", "album");
  makeRandomFile(path.join(folder, "one.bin"), 700_000, 11);
  makeRandomFile(path.join(folder, "two.bin"), 450_000, 12);
  tracker = await startTracker();
  torrentFile = await makeTorrent(folder, path.join(work, "album.torrent"), { trackers: [tracker.announce], pieceLength: 32768 });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrentFile)));
  hash = toHex(meta.infoHash);
  // Found only through the .torrent's tracker: the magnet link does not name it.
  await startBtpeer(["seed", torrentFile, "--dir", path.join(work, "seed"), "--no-dht"], { name: "seeder" });
});

afterAll(async () => {
  await stopAllServices();
  removeDir(work);
}, 30_000);

/** A link whose one peer is a loopback port nobody listens on, and whose one tracker never answers. */
const waitingLink = () => formatMagnet({ infoHash: meta.infoHash, name: "album", trackers: [deadTracker], peers: [`127.0.0.1:${freePort()}`] });

async function daemonAt(name: string): Promise<DaemonProcess & { call: (method: string, route: string, init?: RequestInit) => Promise<Response> }> {
  const root = path.join(work, name);
  const daemon = await startDaemon({
    stateDir: path.join(root, "state"),
    downloadDir: path.join(root, "downloads"),
    watchDir: path.join(root, "watch"),
    extra: ["--no-dht"],
    name,
  });
  const token = fs.readFileSync(path.join(daemon.stateDir, "api-token"), "utf8").trim();
  const base = `http://127.0.0.1:${new URL(daemon.api).port}`;
  const call = (method: string, route: string, init: RequestInit = {}) =>
    fetch(`${base}${route}`, { ...init, method, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  return { ...daemon, call };
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

test("native API: the .torrent's add is 409 duplicate, the waiting magnet link takes its metadata and trackers, downloads, and keeps them across a restart", async () => {
  let daemon = await daemonAt("native");
  const added = await daemon.call("POST", "/api/v1/torrents", {
    body: JSON.stringify({ magnet: waitingLink() }),
    headers: { "content-type": "application/json" },
  });
  expect(await json(added, 201)).toEqual({ infoHash: hash });
  expect((await json<TorrentDetail>(await daemon.call("GET", `/api/v1/torrents/${hash}`), 200)).state).toBe("metadata");

  const again = await daemon.call("POST", "/api/v1/torrents", { body: fs.readFileSync(torrentFile), headers: { "content-type": "application/x-bittorrent" } });
  const refused = await json<{ error: { code: string; message: string } }>(again, 409);
  expect(refused.error.code).toBe("duplicate");
  expect(refused.error.message).toContain("it has it now");

  // Answered once the torrent made of the metadata took over: its name and files are there at once.
  const detail = await json<TorrentDetail>(await daemon.call("GET", `/api/v1/torrents/${hash}`), 200);
  expect(detail.state).not.toBe("metadata");
  expect([detail.name, detail.size, detail.pieceCount]).toEqual(["album", meta.length, meta.pieceCount]);
  expect(detail.files.map((f) => [f.path, f.length])).toEqual([
    ["one.bin", 700_000],
    ["two.bin", 450_000],
  ]);
  expect(detail.trackers.map((t) => t.url)).toEqual([deadTracker, tracker.announce]);

  await daemon.waitFor(torrentEvent("completed", hash));
  await expectSameTree(path.join(daemon.downloadDir, "album"), path.join(work, "seed", "album"));
  expect(await daemon.stop()).toBe(0);

  // The metadata is in the state: no metadata phase after a restart, the same files, seeding.
  daemon = await daemonAt("native");
  await daemon.waitFor(torrentEvent("started", hash));
  const listed = await json<TorrentSummary[]>(await daemon.call("GET", "/api/v1/torrents"), 200);
  expect(listed.map((t) => [t.infoHash, t.name, t.state, t.progress])).toEqual([[hash, "album", "seeding", 1]]);
  const stored = await json<TorrentDetail>(await daemon.call("GET", `/api/v1/torrents/${hash}`), 200);
  expect(stored.files.length).toBe(2);
  expect(stored.trackers.map((t) => t.url)).toEqual([deadTracker, tracker.announce]);
  expect(daemon.events().some((e) => e.event === "magnet" || e.event === "metadata")).toBe(false);
  expect(await daemon.stop()).toBe(0);
}, 240_000);

test('qBittorrent API: torrents/add of the .torrent answers "Fails." as for a duplicate; the waiting magnet link takes its metadata and downloads', async () => {
  const daemon = await daemonAt("qbt");
  const login = await daemon.call("POST", "/api/v2/auth/login", { body: new URLSearchParams({ username: "admin", password: readToken(daemon) }) });
  expect(await login.text()).toBe("Ok.");
  const cookie = { cookie: `SID=${/SID=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1]}` };
  const qbt = (route: string, body?: FormData) => daemon.call(body ? "POST" : "GET", `/api/v2/${route}`, { headers: cookie, ...(body ? { body } : {}) });
  const info = async () => (await json<{ hash: string; name: string; state: string; size: number }[]>(await qbt(`torrents/info?hashes=${hash}`), 200))[0]!;

  const magnetForm = new FormData();
  magnetForm.append("urls", waitingLink());
  expect(await (await qbt("torrents/add", magnetForm)).text()).toBe("Ok.");
  expect((await info()).state).toBe("metaDL");

  const fileForm = new FormData();
  fileForm.append("torrents", new Blob([fs.readFileSync(torrentFile)], { type: "application/x-bittorrent" }), "album.torrent");
  const answer = await qbt("torrents/add", fileForm);
  expect([answer.status, await answer.text()]).toEqual([200, "Fails."]);

  const row = await info();
  expect(row.state).not.toBe("metaDL");
  expect([row.name, row.size]).toEqual(["album", meta.length]);
  const files = await json<{ name: string; size: number }[]>(await qbt(`torrents/files?hash=${hash}`), 200);
  expect(files.map((f) => [f.name, f.size])).toEqual([
    ["album/one.bin", 700_000],
    ["album/two.bin", 450_000],
  ]);
  await daemon.waitFor(torrentEvent("completed", hash));
  await expectSameTree(path.join(daemon.downloadDir, "album"), path.join(work, "seed", "album"));
  expect(await daemon.stop()).toBe(0);
}, 240_000);

const readToken = (daemon: DaemonProcess) => fs.readFileSync(path.join(daemon.stateDir, "api-token"), "utf8").trim();

test("watch folder: a magnet link whose fetch failed (no tracker, no peer, no DHT) is replaced by the dropped .torrent's torrent, which downloads", async () => {
  const daemon = await daemonAt("failed");
  const bare = formatMagnet({ infoHash: meta.infoHash, name: "album" });
  const added = await daemon.call("POST", "/api/v1/torrents", { body: JSON.stringify({ magnet: bare }), headers: { "content-type": "application/json" } });
  expect(await json(added, 201)).toEqual({ infoHash: hash });
  await daemon.waitFor(torrentEvent("error", hash));
  expect((await json<TorrentDetail>(await daemon.call("GET", `/api/v1/torrents/${hash}`), 200)).state).toBe("error");

  daemon.drop(torrentFile);
  const watched = await daemon.waitFor((e) => e.event === "watch" && e.file === "album.torrent");
  expect([watched.result, watched.reason]).toEqual(["duplicate", expect.stringContaining("it has it now")]);
  await daemon.waitFor(torrentEvent("completed", hash));
  const detail = await json<TorrentDetail>(await daemon.call("GET", `/api/v1/torrents/${hash}`), 200);
  expect([detail.name, detail.state, detail.error]).toEqual(["album", "seeding", null]);
  expect(detail.trackers.map((t) => t.url)).toEqual([tracker.announce]);
  await expectSameTree(path.join(daemon.downloadDir, "album"), path.join(work, "seed", "album"));
  expect(await daemon.stop()).toBe(0);
}, 240_000);
