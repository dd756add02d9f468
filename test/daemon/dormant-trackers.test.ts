// A dormant torrent's trackers changed through the daemon (DaemonControl.editTrackers, what both APIs
// call), watched from a real tracker (ours, edge/, in this process on loopback, recording each announce):
// the change makes the torrent again and applies at once (the tracker removed is told `stopped`, the
// one left is announced to), it goes dormant again, and a daemon started again over the same state starts
// it dormant with the changed list, announcing `started` to it. A reannounce asked of a dormant torrent
// (the APIs' reannounce) makes it again and announces at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import fs from "node:fs";
import { toHex } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { makeTorrent } from "../support/seed-fixture.ts";
import { until } from "../support/until.ts";
import { addUntilDormant, openDaemon } from "./dormant-fixture.ts";

let dir = "";
let tracker: RecordingTracker;
let torrentPath = "";
let hex = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-dormant-trackers-");
  tracker = startRecordingTracker();
  makeRandomFile(path.join(dir, "seed", "one.bin"), 150_000, 11);
  torrentPath = await makeTorrent(path.join(dir, "seed", "one.bin"), path.join(dir, "one.torrent"), { trackers: [tracker.url("h")] });
  hex = toHex(parseMetainfo(new Uint8Array(fs.readFileSync(torrentPath))).infoHash);
});

afterAll(() => {
  tracker?.stop();
  removeDir(dir);
});

const events = (name: string) => tracker.to(name, hex).map((a) => a.event);
const urls = (daemon: ReturnType<typeof openDaemon>) => daemon.get(hex).trackers.map((t) => [t.url, t.tier]);

test("a dormant torrent's trackers change at once, and a restart starts it dormant announcing to the changed list", async () => {
  const state = path.join(dir, "state");
  const daemon = openDaemon(state, dir);
  try {
    await addUntilDormant(daemon, torrentPath, path.join(dir, "seed"));
    expect(events("h")).toEqual(["started"]);

    await daemon.editTrackers(hex, { add: [tracker.url("i")] });
    expect(urls(daemon)).toEqual([
      [tracker.url("h"), 0],
      [tracker.url("i"), 1],
    ]);
    await daemon.editTrackers(hex, { remove: [tracker.url("h")] });
    expect(urls(daemon)).toEqual([[tracker.url("i"), 0]]);
    await until(() => events("h").at(-1) === "stopped" && events("i").length > 0, "h told stopped, i announced to", { tries: 600, everyMs: 50 });
    await until(() => daemon.dormant(hex), "dormant again", { tries: 600, everyMs: 50 });
  } finally {
    await daemon.close();
  }
  expect(events("i").at(-1)).toBe("stopped"); // the daemon's stop

  const again = openDaemon(state, dir);
  try {
    await again.loaded;
    expect(again.dormant(hex)).toBe(true);
    expect(urls(again)).toEqual([[tracker.url("i"), 0]]);
    await until(() => events("i").at(-1) === "started", "i announced `started` by the restarted daemon", { tries: 600, everyMs: 50 });
    expect(events("h")).toEqual(["started", "stopped"]);
  } finally {
    await again.close();
  }
}, 60_000);

test("a reannounce asked of a dormant torrent announces to its tracker at once", async () => {
  // The same file in other pieces (another info hash), announcing to "r".
  const other = await makeTorrent(path.join(dir, "seed", "one.bin"), path.join(dir, "other.torrent"), { trackers: [tracker.url("r")], pieceLength: 16 * 1024 });
  const otherHex = toHex(parseMetainfo(new Uint8Array(fs.readFileSync(other))).infoHash);
  const at = () => tracker.to("r", otherHex).map((a) => a.event);
  const daemon = openDaemon(path.join(dir, "state-reannounce"), dir);
  try {
    await addUntilDormant(daemon, other, path.join(dir, "seed"));
    expect(at()).toEqual(["started"]); // its interval is an hour: nothing else comes unless asked
    await daemon.reannounce(otherHex);
    await until(() => at().length > 1, "the reannounce at the tracker", { tries: 600, everyMs: 50 });
    expect(at()).toEqual(["started", ""]);
  } finally {
    await daemon.close();
  }
  expect(at()).toEqual(["started", "", "stopped"]);
}, 60_000);
