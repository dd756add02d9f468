// A swarm of btpeer processes through our own tracker (Bun, embedded memory store): one seeder and four
// leechers that must trade pieces among themselves, and a finished leecher that keeps the torrent alive
// for a newcomer once the original seeder is gone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer, startTracker, type Btpeer, type Tracker } from "./btpeer-harness.ts";

const SIZE = 24 * 1024 * 1024 + 12_345; // last piece short
let dir = "";
let tracker: Tracker;
let torrent = "";
let expected = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-swarm-");
  makeRandomFile(path.join(dir, "seed", "swarm.bin"), SIZE, 42);
  expected = await sha256File(path.join(dir, "seed", "swarm.bin"));
  tracker = await startTracker();
  torrent = await makeTorrent(path.join(dir, "seed", "swarm.bin"), path.join(dir, "swarm.torrent"), { trackers: [tracker.announce], pieceLength: 64 * 1024 });
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

describe("a btpeer swarm through our tracker", () => {
  test("one seeder and four leechers all complete, the leechers upload to each other, and a finished leecher serves a newcomer after the seeder leaves", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "seed")], { name: "seeder" });
    // Started together, so that they overlap and have pieces to trade.
    const leechers: Btpeer[] = await Promise.all(
      [0, 1, 2, 3].map((i) => startBtpeer(["download", torrent, "--out", path.join(dir, `leecher${i}`), "--seed"], { name: `leecher${i}` })),
    );
    await Promise.all(leechers.map((l) => l.waitFor(isEvent("completed"), 150_000)));
    for (let i = 0; i < 4; i++) expect(await sha256File(path.join(dir, `leecher${i}`, "swarm.bin"))).toBe(expected);

    // Upload counters come with every progress event (about once a second): wait for one after completion.
    await Promise.all(leechers.map((l) => l.waitFor((e) => e.event === "progress" && e.have === e.pieces)));
    const uploads = leechers.map((l) => Number(l.last("progress")!.uploaded));
    if (process.env.DEBUG_SWARM) console.log("leecher uploads", uploads);
    const uploaders = uploads.filter((u) => u > 0).length;
    expect(uploaders).toBeGreaterThanOrEqual(2);

    // The original seeder leaves; a newcomer must get everything from the former leechers.
    expect(await seeder.stop()).toBe(0);
    const newcomer = await startBtpeer(["download", torrent, "--out", path.join(dir, "newcomer"), "--no-seed"], { name: "newcomer" });
    const done = await newcomer.waitFor(isEvent("completed"), 120_000);
    expect(done.fetchedPieces).toBe(done.pieces);
    expect(await newcomer.service.exited).toBe(0);
    expect(await sha256File(path.join(dir, "newcomer", "swarm.bin"))).toBe(expected);

    for (const l of leechers) expect(await l.stop()).toBe(0);
  }, 300_000); // a safety bound only: bunfig's [test] timeout is not applied, and Bun's default is 5 s
});
