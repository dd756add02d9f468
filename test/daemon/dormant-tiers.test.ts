// A dormant torrent announces to each tier too (peer/client/dormant-announces.ts, by default every tier on
// its own): a stored seeder with two tiers, started again by a restart, starts dormant, and the client's
// scheduler sends `started` to both tiers' trackers; the daemon stopping sends `stopped` to both. The
// trackers are ours (edge/), in this process, on loopback, recording the URL each announce came to.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { makeTorrent } from "../support/seed-fixture.ts";
import { until } from "../support/until.ts";
import fs from "node:fs";
import { addUntilDormant, openDaemon } from "./dormant-fixture.ts";

let dir = "";
let tracker: RecordingTracker;

beforeAll(() => {
  dir = makeTempDir("btpeer-dormant-tiers-");
  tracker = startRecordingTracker();
});

afterAll(() => {
  tracker?.stop();
  if (dir) removeDir(dir);
});

test("a stored seeder with two tiers starts dormant after a restart and announces started to both tiers, and stopped to both when the daemon stops", async () => {
  const source = path.join(dir, "seed", "one.bin");
  makeRandomFile(source, 200_000, 61);
  const torrentPath = await makeTorrent(source, path.join(dir, "one.torrent"), { trackers: [tracker.url("d1"), tracker.url("d2")] });
  const hex = toHex(parseMetainfo(new Uint8Array(fs.readFileSync(torrentPath))).infoHash);
  const events = (name: string) => tracker.to(name, hex).map((a) => a.event);
  const state = path.join(dir, "state");

  const first = openDaemon(state, dir);
  try {
    await addUntilDormant(first, torrentPath, path.dirname(source));
  } finally {
    await first.close();
  }
  for (const name of ["d1", "d2"]) expect(events(name).at(-1)).toBe("stopped");

  const second = openDaemon(state, dir);
  try {
    await second.loaded;
    expect(second.dormant(hex)).toBe(true);
    for (const name of ["d1", "d2"]) {
      await until(() => events(name).at(-1) === "started", `the dormant torrent's started at ${name}`, { tries: 600, everyMs: 50 });
    }
    expect(second.dormant(hex)).toBe(true);
  } finally {
    await second.close();
  }
  for (const name of ["d1", "d2"]) expect(events(name).at(-1)).toBe("stopped");
}, 60_000);
