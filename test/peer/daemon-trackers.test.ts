// A torrent's trackers changed through the daemon's own API (dist/btpeer daemon), watched from a real
// tracker (ours, edge/, in this process on loopback, recording each announce and the URL it came to):
// an added tracker is announced to at once (every tier is, by default: daemon-tiers.test.ts; its torrent's
// only other tracker is dead, so strict BEP 12 would get to it too), a tracker replaced by another is told `stopped` and the new one is announced to, a removed one is
// told `stopped`; a restart keeps the list; adding again a .torrent (through the API or the watch folder)
// or a magnet link the daemon has merges their new trackers in (the add is still a duplicate); a magnet link still fetching its metadata
// takes changes too and keeps them across a restart; bad input is a 4xx naming the problem, changing nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { TorrentDetail } from "../../peer/daemon/control.ts";
import { toHex } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { withTrackers } from "../../shared/metainfo/with-trackers.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { makeTorrent } from "../support/seed-fixture.ts";
import { until } from "../support/until.ts";
import { type ApiDaemon, requireBinary, startApiDaemon } from "./daemon-api-harness.ts";

const DEAD = `http://127.0.0.1:${freePort()}/announce`;
let dir = "";
let tracker: RecordingTracker;
let daemon: ApiDaemon;
/** A torrent whose data is nowhere (it downloads, from no one) and whose one tracker is dead. */
let bytes: Uint8Array;
let hex = "";
/** Another torrent's info hash, added as a magnet link only (its metadata never comes). */
let magnetHex = "";

beforeAll(async () => {
  requireBinary();
  dir = makeTempDir("btpeer-daemon-trackers-");
  tracker = startRecordingTracker();
  makeRandomFile(path.join(dir, "data", "one.bin"), 200_000, 7);
  makeRandomFile(path.join(dir, "other", "two.bin"), 100_000, 8);
  bytes = new Uint8Array(fs.readFileSync(await makeTorrent(path.join(dir, "data", "one.bin"), path.join(dir, "one.torrent"), { trackers: [DEAD] })));
  hex = toHex(parseMetainfo(bytes).infoHash);
  const other = new Uint8Array(fs.readFileSync(await makeTorrent(path.join(dir, "other", "two.bin"), path.join(dir, "two.torrent"))));
  magnetHex = toHex(parseMetainfo(other).infoHash);
  fs.mkdirSync(path.join(dir, "empty"));
  daemon = await startApiDaemon({ extra: ["--no-dht"] });
  await add({ torrent: Buffer.from(bytes).toString("base64"), savePath: path.join(dir, "empty") }, 201);
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  tracker?.stop();
  removeDir(dir);
}, 30_000);

const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const add = (body: unknown, status: number) => daemon.json("POST", "/api/v1/torrents", status, json(body));
const trackersOf = (detail: TorrentDetail) => detail.trackers.map((t) => [t.url, t.tier]);
const detail = (h = hex) => daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${h}`, 200);
const events = (name: string, h = hex) => tracker.to(name, h).map((a) => a.event);

test("an added tracker is announced to at once; one replaced is told stopped and its replacement announced to; one removed is told stopped", async () => {
  const added = await daemon.json<TorrentDetail>("POST", `/api/v1/torrents/${hex}/trackers`, 200, json({ urls: [tracker.url("a")] }));
  expect(trackersOf(added)).toEqual([
    [DEAD, 0],
    [tracker.url("a"), 1],
  ]);
  await until(() => events("a").includes("started"), "a `started` at the added tracker", { tries: 600, everyMs: 50 });

  const edited = await daemon.json<TorrentDetail>("PATCH", `/api/v1/torrents/${hex}/trackers`, 200, json({ url: tracker.url("a"), newUrl: tracker.url("b") }));
  expect(trackersOf(edited)).toEqual([
    [DEAD, 0],
    [tracker.url("b"), 1],
  ]);
  await until(() => events("a").includes("stopped") && events("b").length > 0, "a told stopped, b announced to", { tries: 600, everyMs: 50 });

  const removed = await daemon.json<TorrentDetail>("DELETE", `/api/v1/torrents/${hex}/trackers?url=${encodeURIComponent(tracker.url("b"))}`, 200);
  expect(trackersOf(removed)).toEqual([[DEAD, 0]]);
  await until(() => events("b").at(-1) === "stopped", "b told stopped", { tries: 600, everyMs: 50 });
  expect(events("a").at(-1)).toBe("stopped");
}, 60_000);

test("a tracker replaced while the reply to our announce is still on its way is told stopped too", async () => {
  tracker.hold("ha");
  await daemon.json("POST", `/api/v1/torrents/${hex}/trackers`, 200, json({ urls: [tracker.url("ha")] }));
  await until(() => events("ha").length === 1, "the announce at ha (its reply held)", { tries: 600, everyMs: 50 });
  await daemon.json("PATCH", `/api/v1/torrents/${hex}/trackers`, 200, json({ url: tracker.url("ha"), newUrl: tracker.url("hb") }));
  tracker.release("ha");
  await until(() => events("ha").includes("stopped") && events("hb").length > 0, "ha told stopped, hb announced to", { tries: 600, everyMs: 50 });
  await daemon.json("DELETE", `/api/v1/torrents/${hex}/trackers?url=${encodeURIComponent(tracker.url("hb"))}`, 200);
  await until(() => events("hb").at(-1) === "stopped", "hb told stopped", { tries: 600, everyMs: 50 });
}, 60_000);

test("bad input is a 4xx naming the problem, and changes nothing", async () => {
  const before = trackersOf(await detail());
  const refused = async (method: string, query: string, body: unknown, status: number, code: string, says: string) => {
    const reply = await daemon.call(method, `/api/v1/torrents/${hex}/trackers${query}`, body === undefined ? {} : json(body));
    const text = await reply.text();
    expect([reply.status, JSON.parse(text).error.code]).toEqual([status, code]);
    expect(text).toContain(says);
  };
  await refused("POST", "", { urls: [tracker.url("c"), "wss://127.0.0.1:1/x"] }, 400, "bad-request", "urls[1]");
  await refused("POST", "", { urls: ["udp://127.0.0.1/announce"] }, 400, "bad-request", "port");
  await refused("POST", "", { urls: [] }, 400, "bad-request", "urls");
  await refused("POST", "", { url: tracker.url("c") }, 400, "bad-request", "url");
  await refused("PATCH", "", { url: tracker.url("nowhere"), newUrl: tracker.url("c") }, 404, "no-such-tracker", tracker.url("nowhere"));
  await refused("PATCH", "", { url: DEAD, newUrl: "not a url" }, 400, "bad-request", "newUrl");
  await refused("DELETE", `?url=${encodeURIComponent(tracker.url("nowhere"))}`, undefined, 404, "no-such-tracker", tracker.url("nowhere"));
  await refused("DELETE", "", undefined, 400, "bad-request", "url");
  const unknown = await daemon.call("POST", `/api/v1/torrents/${"0".repeat(40)}/trackers`, json({ urls: [tracker.url("c")] }));
  expect(unknown.status).toBe(404);
  // An edit to a URL the torrent has already.
  await daemon.json("POST", `/api/v1/torrents/${hex}/trackers`, 200, json({ urls: [tracker.url("c")] }));
  await refused("PATCH", "", { url: tracker.url("c"), newUrl: DEAD }, 409, "tracker-exists", DEAD);
  await daemon.json("DELETE", `/api/v1/torrents/${hex}/trackers?url=${encodeURIComponent(tracker.url("c"))}`, 200);
  expect(trackersOf(await detail())).toEqual(before);
}, 60_000);

test("a duplicate .torrent and a duplicate magnet link merge their new trackers in; a restart keeps every change", async () => {
  const renamed = withTrackers(bytes, [[DEAD], [tracker.url("d")]]);
  expect(toHex(parseMetainfo(renamed).infoHash)).toBe(hex);
  const duplicate = await daemon.call("POST", "/api/v1/torrents", json({ torrent: Buffer.from(renamed).toString("base64") }));
  expect([duplicate.status, ((await duplicate.json()) as { error: { code: string } }).error.code]).toEqual([409, "duplicate"]);
  const magnet = await daemon.call("POST", "/api/v1/torrents", json({ magnet: `magnet:?xt=urn:btih:${hex}&tr=${encodeURIComponent(tracker.url("e"))}` }));
  expect(magnet.status).toBe(409);
  // Dropped into the watch folder: renamed .added as a duplicate, its new tracker merged in too.
  const dropped = path.join(dir, "again.torrent");
  fs.writeFileSync(dropped, withTrackers(bytes, [[tracker.url("w")]]));
  daemon.drop(dropped);
  await daemon.waitFor((e) => e.event === "watch" && e.file === "again.torrent" && e.result === "duplicate", 60_000);
  const merged = [
    [DEAD, 0],
    [tracker.url("d"), 1],
    [tracker.url("e"), 2],
    [tracker.url("w"), 3],
  ];
  expect(trackersOf(await detail())).toEqual(merged);

  daemon = await daemon.restart();
  expect(trackersOf(await detail())).toEqual(merged);
  // Started again with its list: every tier is announced to, d answers (the dead one fails).
  await until(() => events("d").includes("started"), "d announced to after the restart", { tries: 600, everyMs: 50 });
}, 90_000);

test("a magnet link still fetching its metadata announces to a tracker added and stops at one removed, and keeps its list across a restart", async () => {
  await add({ magnet: `magnet:?xt=urn:btih:${magnetHex}&tr=${encodeURIComponent(tracker.url("f"))}` }, 201);
  await until(() => events("f", magnetHex).includes("started"), "the link's tracker announced to", { tries: 600, everyMs: 50 });
  const added = await daemon.json<TorrentDetail>("POST", `/api/v1/torrents/${magnetHex}/trackers`, 200, json({ urls: [tracker.url("g")] }));
  expect(added.state).toBe("metadata");
  expect(trackersOf(added)).toEqual([
    [tracker.url("f"), 0],
    [tracker.url("g"), 1],
  ]);
  const removed = await daemon.json<TorrentDetail>("DELETE", `/api/v1/torrents/${magnetHex}/trackers?url=${encodeURIComponent(tracker.url("f"))}`, 200);
  expect(trackersOf(removed)).toEqual([[tracker.url("g"), 0]]);
  await until(() => events("f", magnetHex).at(-1) === "stopped" && events("g", magnetHex).length > 0, "f told stopped, g announced to", {
    tries: 600,
    everyMs: 50,
  });

  daemon = await daemon.restart();
  const after = await detail(magnetHex);
  expect([after.state, trackersOf(after)]).toEqual(["metadata", [[tracker.url("g"), 0]]]);
  // Before the restart g had a regular announce (f had answered `started`) and the stop's `stopped`.
  await until(() => events("g", magnetHex).includes("started"), "g announced `started` by the restarted fetch", { tries: 600, everyMs: 50 });
  expect(events("f", magnetHex).at(-1)).toBe("stopped");
}, 90_000);
