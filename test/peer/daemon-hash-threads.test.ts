// The hashing threads belong to the client, not to each torrent: one `btpeer daemon` (dist/btpeer)
// downloading three torrents at once from three btpeer seeders holds at most the client's pool of hashing
// threads (one per core but one), where a thread per downloading torrent would hold three. Counted from
// outside, as the kernel sees the process: Bun names each Worker thread "Worker" in /proc/<pid>/task/*/comm.
// Checking data already on disk runs on the same threads: many torrents added at once start no worker of
// their own (a check used to start one per core for each torrent, in turn).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { defaultHashThreads } from "../../peer/verify/hash-pool.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { startDaemon, torrentEvent } from "./daemon-harness.ts";

const PIECE = 64 * 1024;
const SIZE = 6 * 1024 * 1024;
// Each seeder sends slowly enough that the three downloads overlap for a few seconds.
const SEEDER_RATE = "1M";
let dir = "";

const infoHashOf = (file: string) => Buffer.from(parseMetainfo(new Uint8Array(fs.readFileSync(file))).infoHash).toString("hex");

/** Threads of `pid` Bun runs a Worker on (hashing threads, and a disk check's while one runs). */
function workerThreads(pid: number): number {
  let count = 0;
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0; // the process has ended
  }
  for (const task of tasks) {
    try {
      if (fs.readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim() === "Worker") count++;
    } catch {
      // that thread ended while we read
    }
  }
  return count;
}

beforeAll(() => {
  dir = makeTempDir("btpeer-hash-threads-");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 60_000);

describe.skipIf(process.platform !== "linux")("btpeer daemon: hashing threads shared by its torrents", () => {
  test("three torrents downloading at once use at most the client's hashing threads, and every piece is checked", async () => {
    const src = path.join(dir, "src");
    const downloads = path.join(dir, "downloads");
    fs.mkdirSync(src, { recursive: true });
    fs.mkdirSync(downloads, { recursive: true });
    const names = ["a.bin", "b.bin", "c.bin"];
    const torrents: string[] = [];
    for (const [i, name] of names.entries()) {
      makeRandomFile(path.join(src, name), SIZE + i * 1111, 400 + i);
      torrents.push(await makeTorrent(path.join(src, name), path.join(dir, `${name}.torrent`), { pieceLength: PIECE }));
    }
    const hashes = torrents.map(infoHashOf);

    const daemon = await startDaemon({ stateDir: path.join(dir, "state"), downloadDir: downloads, watchDir: path.join(dir, "watch") });
    for (const t of torrents) daemon.drop(t);
    for (const hash of hashes) await daemon.waitFor(torrentEvent("started", hash));
    // Nothing downloads yet: a downloading torrent with no piece to check holds no thread.
    const idle = workerThreads(daemon.service.pid);

    // Sample the daemon's threads until every download completed (bounded by the waits below).
    let most = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, workerThreads(daemon.service.pid));
        samples++;
        await Bun.sleep(5);
      }
    })();

    const port = `127.0.0.1:${daemon.port}`;
    const seeders = await Promise.all(
      torrents.map((t, i) => startBtpeer(["seed", t, "--dir", src, "--peer", port, "--upload-limit", SEEDER_RATE], { name: `btpeer seeder ${i}` })),
    );
    const done = [];
    for (const hash of hashes) done.push(await daemon.waitFor(torrentEvent("completed", hash), 180_000));
    sampling = false;
    await sampler;

    for (const [i, name] of names.entries()) {
      expect(done[i]).toMatchObject({ fetchedPieces: done[i]!.pieces });
      expect(await sha256File(path.join(downloads, name))).toBe(await sha256File(path.join(src, name)));
    }
    expect(idle).toBe(0);
    expect(samples).toBeGreaterThan(0);
    // Pieces were hashed on a thread (not all on the main thread), and never on more than the pool's.
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(defaultHashThreads());
    // Every download gave its memory back: no registration left, so the threads end (a thread told to end
    // leaves /proc a moment later; the bound is only a safety one).
    const deadline = Date.now() + 60_000;
    while (workerThreads(daemon.service.pid) > 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(workerThreads(daemon.service.pid)).toBe(0);

    await Promise.all(seeders.map((s) => s.stop()));
    expect(await daemon.stop()).toBe(0);
  }, 300_000);

  test("many torrents whose data is on disk are checked on the client's hashing threads, no more", async () => {
    const downloads = path.join(dir, "present");
    fs.mkdirSync(downloads, { recursive: true });
    const COUNT = 12;
    const torrents: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const name = `p${i}.bin`;
      // 2 MiB of 16 KiB pieces: above what a check reads on the main thread, so every check uses the threads.
      makeRandomFile(path.join(downloads, name), 2 * 1024 * 1024 + i * 777, 900 + i);
      torrents.push(await makeTorrent(path.join(downloads, name), path.join(dir, `${name}.torrent`), { pieceLength: 16 * 1024 }));
    }
    // One piece of p3.bin corrupted: its check finds every piece but that one.
    const fd = fs.openSync(path.join(downloads, "p3.bin"), "r+");
    fs.writeSync(fd, new Uint8Array([0, 1, 2, 3]), 0, 4, 100_000);
    fs.closeSync(fd);
    const hashes = torrents.map(infoHashOf);

    const daemon = await startDaemon({ stateDir: path.join(dir, "state2"), downloadDir: downloads, watchDir: path.join(dir, "watch2") });
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, workerThreads(daemon.service.pid));
        await Bun.sleep(2);
      }
    })();
    for (const t of torrents) daemon.drop(t);
    const checked = [];
    for (const hash of hashes) checked.push(await daemon.waitFor(torrentEvent("checked", hash), 120_000));
    sampling = false;
    await sampler;

    for (const [i, event] of checked.entries()) {
      const e = event as unknown as { checked: number; have: number; pieces: number };
      expect(e.checked).toBe(e.pieces);
      expect(e.have).toBe(i === 3 ? e.pieces - 1 : e.pieces);
    }
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(defaultHashThreads());
    expect(await daemon.stop()).toBe(0);
  }, 300_000);
});
