// Which trackers a torrent announces to (peer/tracker/announce-scope.ts), seen from a real tracker (ours,
// edge/, in this process on loopback, recording each announce and the URL it came to) by a real
// `dist/btpeer daemon`: by default every tier on its own, as qBittorrent and Transmission do, so a tracker
// added in a tier of its own is announced to while the first works, and `stopped` goes to each tracker
// announced to; with announce to all trackers on, every tracker of a tier; with announce to all tiers
// off, BEP 12 strictly. The settings, through our API and qBittorrent's preferences, outlive a restart.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { DaemonSettings } from "../../peer/daemon/daemon-settings.ts";
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
let seed = 40;

beforeAll(async () => {
  requireBinary();
  dir = makeTempDir("btpeer-daemon-tiers-");
  tracker = startRecordingTracker();
  fs.mkdirSync(path.join(dir, "empty"));
  daemon = await startApiDaemon({ extra: ["--no-dht"] });
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  tracker?.stop();
  removeDir(dir);
}, 30_000);

const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const events = (name: string, hex: string) => tracker.to(name, hex).map((a) => a.event);
const announced = (name: string, hex: string, event: string, what: string) => until(() => events(name, hex).includes(event), what, { tries: 600, everyMs: 50 });

/** Adds a torrent of its own data (nowhere: it downloads from no one, so it stays awake) with these tiers; its hex. */
async function addTorrent(tiers: string[][]): Promise<string> {
  const name = `data-${seed}.bin`;
  makeRandomFile(path.join(dir, "data", name), 100_000, seed++);
  const plain = new Uint8Array(fs.readFileSync(await makeTorrent(path.join(dir, "data", name), path.join(dir, `${name}.torrent`))));
  const bytes = withTrackers(plain, tiers);
  await daemon.json("POST", "/api/v1/torrents", 201, json({ torrent: Buffer.from(bytes).toString("base64"), savePath: path.join(dir, "empty") }));
  return toHex(parseMetainfo(bytes).infoHash);
}

const setSettings = (patch: Partial<DaemonSettings>) => daemon.json<DaemonSettings>("PATCH", "/api/v1/settings", 200, json(patch));

test("by default both tiers of a torrent are announced to; a tracker added in a tier of its own is announced to while they work; removed, the torrent sends stopped to each", async () => {
  const hex = await addTorrent([[tracker.url("t1")], [tracker.url("t2")]]);
  await announced("t1", hex, "started", "a `started` at the first tier's tracker");
  await announced("t2", hex, "started", "a `started` at the second tier's tracker");

  await daemon.json("POST", `/api/v1/torrents/${hex}/trackers`, 200, json({ urls: [tracker.url("t3")] }));
  await announced("t3", hex, "started", "a `started` at the added tracker");
  // The working tiers were announced to again with the new list, without a second `started`.
  for (const name of ["t1", "t2"]) expect(events(name, hex).filter((e) => e === "started")).toHaveLength(1);

  expect((await daemon.call("DELETE", `/api/v1/torrents/${hex}`)).status).toBe(204);
  for (const name of ["t1", "t2", "t3"]) {
    await until(() => events(name, hex).at(-1) === "stopped", `${name} told stopped`, { tries: 600, everyMs: 50 });
  }
}, 60_000);

test("with announce to all trackers on, every tracker of a tier is announced to", async () => {
  expect(await setSettings({ announceToAllTrackers: true })).toEqual({ announceToAllTiers: true, announceToAllTrackers: true });
  try {
    const hex = await addTorrent([[tracker.url("m1"), tracker.url("m2")]]);
    await announced("m1", hex, "started", "a `started` at the tier's one tracker");
    await announced("m2", hex, "started", "a `started` at the tier's other tracker");
  } finally {
    await setSettings({ announceToAllTrackers: false });
  }
}, 60_000);

test("with announce to all tiers off, BEP 12 strictly: a dead first tier falls through to the second, and the third is never asked", async () => {
  expect(await setSettings({ announceToAllTiers: false })).toEqual({ announceToAllTiers: false, announceToAllTrackers: false });
  try {
    const hex = await addTorrent([[DEAD], [tracker.url("s1")], [tracker.url("s2")]]);
    await announced("s1", hex, "started", "a `started` at the second tier's tracker");
    // Announced again (asked by the user): the second tier answers again, the third is still not asked.
    await daemon.json("POST", `/api/v1/torrents/${hex}/reannounce`, 200);
    await until(() => events("s1", hex).length >= 2, "a second announce at s1", { tries: 600, everyMs: 50 });
    expect(events("s2", hex)).toEqual([]);
    // An added tracker, in a tier of its own after working ones, is not asked either.
    await daemon.json("POST", `/api/v1/torrents/${hex}/trackers`, 200, json({ urls: [tracker.url("s3")] }));
    await until(() => events("s1", hex).length >= 3, "a third announce at s1 (the new list)", { tries: 600, everyMs: 50 });
    expect(events("s3", hex)).toEqual([]);
  } finally {
    await setSettings({ announceToAllTiers: true });
  }
}, 60_000);

test("the settings: all tiers on and all trackers off by default, in our API and qBittorrent's preferences; changed through either, they outlive a restart; bad input is a 400", async () => {
  const qbtPrefs = async () => {
    const prefs = (await (await daemon.call("GET", "/api/v2/app/preferences")).json()) as Record<string, unknown>;
    return [prefs.announce_to_all_tiers, prefs.announce_to_all_trackers];
  };
  expect(await daemon.json("GET", "/api/v1/settings", 200)).toEqual({ announceToAllTiers: true, announceToAllTrackers: false });
  expect(await qbtPrefs()).toEqual([true, false]);

  const body = new URLSearchParams({ json: JSON.stringify({ announce_to_all_tiers: false }) });
  expect((await daemon.call("POST", "/api/v2/app/setPreferences", { body })).status).toBe(200);
  expect(await daemon.json("GET", "/api/v1/settings", 200)).toEqual({ announceToAllTiers: false, announceToAllTrackers: false });
  await setSettings({ announceToAllTrackers: true });
  expect(await qbtPrefs()).toEqual([false, true]);

  for (const bad of [{ announceToAllTiers: "yes" }, { announceToAllTier: true }]) {
    const reply = await daemon.call("PATCH", "/api/v1/settings", json(bad));
    expect(reply.status).toBe(400);
    expect(await reply.text()).toContain(Object.keys(bad)[0]!);
  }

  daemon = await daemon.restart();
  expect(await daemon.json("GET", "/api/v1/settings", 200)).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });
  expect(await qbtPrefs()).toEqual([false, true]);
  await setSettings({ announceToAllTiers: true, announceToAllTrackers: false });
}, 90_000);
