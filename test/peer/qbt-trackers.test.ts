// A torrent's trackers changed through the qBittorrent Web API of the real daemon (dist/btpeer daemon),
// driven by @ctrl/qbittorrent (the client the tools that speak to qBittorrent use, written by others), and
// watched from a real tracker (ours, edge/, in this process on loopback, recording each announce):
// addTrackers, editTrackers and removeTrackers act on the running torrent at once (announce, `stopped`);
// their bad input gets qBittorrent 4.5.2's status codes (404, 409, 400); adding again a .torrent or a
// magnet link with new trackers merges them in, though the add "fails" as a duplicate; a restart keeps it all.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { QBittorrent } from "@ctrl/qbittorrent";
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
let client: QBittorrent;
/** A torrent whose data is nowhere (it downloads, from no one) and whose one tracker is dead (a tier that never works). */
let bytes: Uint8Array;
let hash = "";

const login = () => new QBittorrent({ baseUrl: daemon.api, username: "admin", password: daemon.token });

beforeAll(async () => {
  requireBinary();
  dir = makeTempDir("btpeer-qbt-trackers-");
  tracker = startRecordingTracker();
  makeRandomFile(path.join(dir, "data", "one.bin"), 200_000, 9);
  bytes = new Uint8Array(fs.readFileSync(await makeTorrent(path.join(dir, "data", "one.bin"), path.join(dir, "one.torrent"), { trackers: [DEAD] })));
  hash = toHex(parseMetainfo(bytes).infoHash);
  fs.mkdirSync(path.join(dir, "empty"));
  daemon = await startApiDaemon({ extra: ["--no-dht"] });
  client = login();
  await client.addTorrent(Buffer.from(bytes), { savepath: path.join(dir, "empty") });
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  tracker?.stop();
  removeDir(dir);
}, 30_000);

/** Its trackers as torrents/trackers lists them (the DHT, PeX and LSD rows aside): [url, tier]. */
const trackers = async () => (await client.torrentTrackers(hash)).filter((t) => Number(t.tier) >= 0).map((t) => [t.url, Number(t.tier)]);
const events = (name: string) => tracker.to(name, hash).map((a) => a.event);
/** The HTTP status a call of the client was refused with (200 when it was not). */
const statusOf = (call: Promise<unknown>) =>
  call.then(
    () => 200,
    (error: { status?: number }) => error.status ?? -1,
  );

test("addTrackers, editTrackers and removeTrackers change the running torrent's announces at once", async () => {
  await client.addTrackers(hash, `${tracker.url("qa")}\n\n${tracker.url("qb")}\n`);
  expect(await trackers()).toEqual([
    [DEAD, 0],
    [tracker.url("qa"), 1],
    [tracker.url("qb"), 2],
  ]);
  await until(() => events("qa").includes("started"), "a `started` at the added tracker", { tries: 600, everyMs: 50 });

  await client.editTrackers(hash, tracker.url("qa"), tracker.url("qc"));
  expect(await trackers()).toEqual([
    [DEAD, 0],
    [tracker.url("qc"), 1],
    [tracker.url("qb"), 2],
  ]);
  await until(() => events("qa").includes("stopped") && events("qc").length > 0, "qa told stopped, qc announced to", { tries: 600, everyMs: 50 });

  await client.removeTrackers(hash, `${tracker.url("qc")}|${tracker.url("qb")}`);
  expect(await trackers()).toEqual([[DEAD, 0]]);
  await until(() => events("qc").at(-1) === "stopped", "qc told stopped", { tries: 600, everyMs: 50 });
  // qb, a tier of its own, was announced to as well (every tier, qBittorrent's default), and is told stopped.
  await until(() => events("qb").at(-1) === "stopped", "qb told stopped", { tries: 600, everyMs: 50 });
  expect(events("qb")[0]).toBe("started");
}, 60_000);

test("bad input gets qBittorrent's status codes and changes nothing", async () => {
  const unknown = "0".repeat(40);
  expect(await statusOf(client.addTrackers(unknown, tracker.url("qd")))).toBe(404);
  expect(await statusOf(client.editTrackers(unknown, DEAD, tracker.url("qd")))).toBe(404);
  expect(await statusOf(client.removeTrackers(unknown, DEAD))).toBe(404);
  expect(await statusOf(client.editTrackers(hash, tracker.url("nowhere"), tracker.url("qd")))).toBe(409);
  expect(await statusOf(client.editTrackers(hash, DEAD, "not a url"))).toBe(400);
  expect(await statusOf(client.addTrackers(hash, `${tracker.url("qd")}\nwss://127.0.0.1:1/x`))).toBe(400);
  expect(await trackers()).toEqual([[DEAD, 0]]);
  // qBittorrent 4.5.2 answers 200 to these: the same URL, URLs the torrent lacks.
  expect(await statusOf(client.editTrackers(hash, DEAD, DEAD))).toBe(200);
  expect(await statusOf(client.removeTrackers(hash, tracker.url("nowhere")))).toBe(200);
  await client.addTrackers(hash, tracker.url("qd"));
  expect(await statusOf(client.editTrackers(hash, tracker.url("qd"), DEAD))).toBe(409);
  await client.removeTrackers(hash, tracker.url("qd"));
  expect(await trackers()).toEqual([[DEAD, 0]]);
}, 60_000);

test("adding again a .torrent or a magnet link merges its new trackers in; a restart keeps them", async () => {
  await expect(client.addTorrent(Buffer.from(withTrackers(bytes, [[tracker.url("qe")]])))).rejects.toThrow("Failed to add torrent");
  await expect(client.addMagnet(`magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(tracker.url("qf"))}`)).rejects.toThrow("Failed to add torrent");
  const merged = [
    [DEAD, 0],
    [tracker.url("qe"), 1],
    [tracker.url("qf"), 2],
  ];
  expect(await trackers()).toEqual(merged);
  await until(() => events("qe").length > 0, "the merged tracker announced to", { tries: 600, everyMs: 50 });

  daemon = await daemon.restart();
  client = login();
  expect(await trackers()).toEqual(merged);
  await until(() => events("qe").includes("started"), "qe announced `started` after the restart", { tries: 600, everyMs: 50 });
}, 90_000);
