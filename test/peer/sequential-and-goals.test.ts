// Sequential mode and seeding goals with real btpeer processes: a sequential download stopped halfway
// holds a prefix of the torrent (give or take the pieces in flight), and a seeder with a ratio goal stops
// on its own once it has uploaded that much.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { verifyExisting } from "../../peer/storage/index.ts";
import { goalReached, shareRatio } from "../../peer/torrent/seeding-goals.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer, startPartialSeeder } from "./btpeer-harness.ts";

const PIECE = 64 * 1024;
let dir = "";
let source = "";
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  dir = makeTempDir("btpeer-sequential-");
  source = path.join(dir, "src", "film.bin");
  makeRandomFile(source, 4 * 1024 * 1024 + 1234, 77);
  torrent = await makeTorrent(source, path.join(dir, "film.torrent"), { pieceLength: PIECE });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

describe("--sequential", () => {
  test("stopped early, the pieces on disk are a prefix of the torrent plus at most a pool's worth in flight", async () => {
    // A btpeer holding the first 48 of the 65 pieces, held to 512 KiB/s: the stop lands before the end
    // however late it comes (with the whole torrent at that rate, it had about 5 s).
    const seeder = await startPartialSeeder(torrent, source, {
      pieceLength: PIECE,
      pieces: 48,
      dir: path.join(dir, "partial"),
      args: ["--upload-limit", "512K"],
    });
    const out = path.join(dir, "seq");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--sequential", "--pool", "1", "--no-seed", "--peer", seeder.address], {
      name: "sequential leecher",
    });
    // More pieces than the pool holds (16), so the prefix has to show.
    await leecher.waitFor((e) => e.event === "progress" && Number(e.have) >= 24, 60_000);
    expect(await leecher.stop()).toBe(0);
    await seeder.stop();
    const have = await verifyExisting(meta, out);
    let firstMissing = 0;
    while (have.has(firstMissing)) firstMissing++;
    let beyond = 0;
    for (let i = firstMissing; i < meta.pieceCount; i++) if (have.has(i)) beyond++;
    expect(firstMissing).toBeGreaterThanOrEqual(have.count() - 16);
    // --pool 1 is 16 pieces of 64 KiB: no more can be under way past the first missing one.
    expect(beyond).toBeLessThanOrEqual(16);
    expect(have.count()).toBeLessThan(meta.pieceCount);
  }, 90_000);
});

describe("seeding goals", () => {
  test("share ratio: uploaded ÷ downloaded, or ÷ the data held when nothing was downloaded", () => {
    expect(shareRatio({ uploaded: 300, downloaded: 100, wantedBytes: 1000 })).toBe(3);
    expect(shareRatio({ uploaded: 500, downloaded: 0, wantedBytes: 1000 })).toBe(0.5);
    const goals = { ratioLimit: 1, seedTimeLimit: 60 };
    expect(goalReached(goals, { uploaded: 999, downloaded: 1000, wantedBytes: 1000, seedingSeconds: 59 })).toBeNull();
    expect(goalReached(goals, { uploaded: 1000, downloaded: 1000, wantedBytes: 1000, seedingSeconds: 0 })).toEqual({ goal: "ratio", value: 1, limit: 1 });
    expect(goalReached(goals, { uploaded: 0, downloaded: 1000, wantedBytes: 1000, seedingSeconds: 60 })).toEqual({ goal: "seed-time", value: 60, limit: 60 });
    expect(goalReached({ ratioLimit: null, seedTimeLimit: null }, { uploaded: 1e9, downloaded: 1, wantedBytes: 1, seedingSeconds: 1e9 })).toBeNull();
  });

  test("--ratio-limit 1: the seeder stops by itself once one whole copy went out, saying why", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--ratio-limit", "1"], { name: "seeder with a goal" });
    const out = path.join(dir, "goal");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "leecher" });
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(out, "film.bin"))).toBe(await sha256File(source));
    const reached = await seeder.waitFor(isEvent("goal-reached"), 30_000);
    expect(reached).toMatchObject({ goal: "ratio", limit: 1 });
    expect(Number(reached.value)).toBeGreaterThanOrEqual(1);
    expect(await seeder.service.exited).toBe(0);
    const stopped = seeder.last("stopped")!;
    expect(stopped.uploaded).toBe(meta.length);
  }, 90_000);

  test("--seed-time-limit 2: a seeder no peer ever comes to stops after two seconds of seeding", async () => {
    // An idle seeder skipped its tick (a daemon holds thousands), goals included: it seeded forever.
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--seed-time-limit", "2", "--no-dht"], {
      name: "idle seeder with a goal",
    });
    const reached = await seeder.waitFor(isEvent("goal-reached"), 30_000);
    expect(reached).toMatchObject({ goal: "seed-time", limit: 2 });
    expect(Number(reached.value)).toBeGreaterThanOrEqual(2);
    expect(await seeder.service.exited).toBe(0);
  }, 60_000);
});
