// A magnet link added to the real daemon (dist/btpeer daemon) through its HTTP API: listed in state
// `metadata` while no peer has it, still there after a restart (the link is in the state, the metadata
// not yet), then fetched from a btpeer seeder and downloaded; after another restart the torrent is back
// at once from its stored .torrent, with no metadata phase at all.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import path from "node:path";
import type { TorrentDetail, TorrentSummary } from "../../peer/daemon/control.ts";
import { toHex } from "../../shared/bytes.ts";
import { formatMagnet } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { type DaemonProcess, startDaemon } from "./daemon-harness.ts";

let work = "";

beforeAll(() => {
  work = makeTempDir("btpeer-daemon-magnet-");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(work);
}, 30_000);

/** The API of a running daemon, with the token it wrote. */
function apiOf(daemon: DaemonProcess) {
  const token = fs.readFileSync(path.join(daemon.stateDir, "api-token"), "utf8").trim();
  const base = `http://127.0.0.1:${new URL(daemon.api).port}`;
  return async <T>(method: string, route: string, status: number, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== status) throw new Error(`${method} ${route}: expected ${status}, got ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  };
}

test("a magnet through the API: listed as metadata, kept across a restart, fetched, stored; a second restart needs no metadata phase", async () => {
  const source = path.join(work, "seed", "data.bin");
  makeRandomFile(source, 2_000_000, 41);
  const torrent = await makeTorrent(source, path.join(work, "data.torrent"), { pieceLength: 32768 });
  const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  const hash = toHex(meta.infoHash);
  const dirs = { stateDir: path.join(work, "state"), downloadDir: path.join(work, "downloads"), watchDir: path.join(work, "watch") };
  const seederPort = freePort(); // named by the link's x.pe; nobody listens there until the seeder starts
  const link = formatMagnet({ infoHash: meta.infoHash, name: "data.bin", peers: [`127.0.0.1:${seederPort}`] });

  let daemon = await startDaemon({ ...dirs, name: "daemon (1)" });
  let api = apiOf(daemon);
  expect(await api<{ infoHash: string }>("POST", "/api/v1/torrents", 201, { magnet: link })).toEqual({ infoHash: hash });
  const listed = await api<TorrentSummary[]>("GET", "/api/v1/torrents", 200);
  expect(listed.map((t) => [t.infoHash, t.name, t.state])).toEqual([[hash, "data.bin", "metadata"]]);
  expect((await api<TorrentDetail>("GET", `/api/v1/torrents/${hash}`, 200)).state).toBe("metadata");
  expect(await daemon.stop()).toBe(0);

  // Restarted before any metadata came: the magnet-only record is still there, and fetching starts again.
  daemon = await startDaemon({ ...dirs, name: "daemon (2)" });
  api = apiOf(daemon);
  expect((await api<TorrentSummary[]>("GET", "/api/v1/torrents", 200)).map((t) => [t.infoHash, t.state])).toEqual([[hash, "metadata"]]);
  const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--peer", `127.0.0.1:${daemon.port}`], {
    port: seederPort,
    name: "seeder",
  });
  await daemon.waitFor((e) => e.event === "metadata" && e.done === true && e.infoHash === hash);
  await daemon.waitFor((e) => e.event === "completed" && e.infoHash === hash);
  const done = await api<TorrentDetail>("GET", `/api/v1/torrents/${hash}`, 200);
  expect(done.state).toBe("seeding");
  expect(done.size).toBe(meta.length);
  expect(await sha256File(path.join(dirs.downloadDir, "data.bin"))).toBe(await sha256File(source));
  expect(await daemon.stop()).toBe(0);
  await seeder.stop();

  // Restarted with the metadata stored: the torrent is back from its .torrent, no peer needed, no metadata phase.
  daemon = await startDaemon({ ...dirs, name: "daemon (3)" });
  api = apiOf(daemon);
  await daemon.waitFor((e) => e.event === "started" && e.infoHash === hash);
  const again = await api<TorrentDetail>("GET", `/api/v1/torrents/${hash}`, 200);
  expect([again.name, again.size, again.pieceCount]).toEqual(["data.bin", meta.length, meta.pieceCount]);
  expect(daemon.events().some((e) => e.event === "magnet" || e.event === "metadata")).toBe(false);
  expect(await daemon.stop()).toBe(0);
}, 240_000);

test("a magnet still fetching its metadata: settings refused, pause refused, removed for good (also from the state)", async () => {
  const dirs = { stateDir: path.join(work, "state-2"), downloadDir: path.join(work, "downloads-2"), watchDir: path.join(work, "watch-2") };
  const hash = "ab".repeat(20);
  const link = `magnet:?xt=urn:btih:${hash}&dn=nowhere&x.pe=127.0.0.1:${freePort()}`;
  let daemon = await startDaemon({ ...dirs, name: "daemon (remove)" });
  let api = apiOf(daemon);
  const refused = await api<{ error: string }>("POST", "/api/v1/torrents", 400, { magnet: link, paused: true });
  expect(JSON.stringify(refused)).toContain("magnet");
  expect(await api<{ infoHash: string }>("POST", "/api/v1/torrents", 201, { magnet: link })).toEqual({ infoHash: hash });
  await api("POST", `/api/v1/torrents/${hash}/pause`, 400);
  const response = await fetch(`http://127.0.0.1:${new URL(daemon.api).port}/api/v1/torrents/${hash}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${fs.readFileSync(path.join(dirs.stateDir, "api-token"), "utf8").trim()}` },
  });
  expect(response.status).toBe(204);
  expect(await api<TorrentSummary[]>("GET", "/api/v1/torrents", 200)).toEqual([]);
  expect(await daemon.stop()).toBe(0);
  daemon = await startDaemon({ ...dirs, name: "daemon (after remove)" });
  api = apiOf(daemon);
  expect(await api<TorrentSummary[]>("GET", "/api/v1/torrents", 200)).toEqual([]);
  expect(await daemon.stop()).toBe(0);
}, 120_000);

test("a magnet through qBittorrent's torrents/add: \"Ok.\", listed as metaDL under the link's name", async () => {
  const dirs = { stateDir: path.join(work, "state-qbt"), downloadDir: path.join(work, "downloads-qbt"), watchDir: path.join(work, "watch-qbt") };
  const hash = "cd".repeat(20);
  const daemon = await startDaemon({ ...dirs, name: "daemon (qbt magnet)" });
  const base = `http://127.0.0.1:${new URL(daemon.api).port}/api/v2`;
  const password = fs.readFileSync(path.join(dirs.stateDir, "api-token"), "utf8").trim();
  const login = await fetch(`${base}/auth/login`, { method: "POST", body: new URLSearchParams({ username: "admin", password }) });
  expect(await login.text()).toBe("Ok.");
  const headers = { cookie: `SID=${/SID=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1]}` };
  // Its one peer never answers: it stays fetching its metadata.
  const form = new FormData();
  form.append("urls", `magnet:?xt=urn:btih:${hash}&dn=nowhere&x.pe=127.0.0.1:${freePort()}`);
  expect(await (await fetch(`${base}/torrents/add`, { method: "POST", headers, body: form })).text()).toBe("Ok.");
  const rows = (await (await fetch(`${base}/torrents/info`, { headers })).json()) as { hash: string; name: string; state: string }[];
  expect(rows.map((r) => [r.hash, r.name, r.state])).toEqual([[hash, "nowhere", "metaDL"]]);
  expect(await daemon.stop()).toBe(0);
}, 60_000);
