// Verified pieces written with O_DIRECT (peer/storage/direct-writes.ts), through real btpeer processes on
// real file systems: every download must come out byte for byte the same as the seeder's data, whether
// its bytes went direct (the aligned middle of each write), through the page cache (unaligned files of a
// multi-file torrent, the short last piece's tail, --no-direct-io) or both. That O_DIRECT was used is read
// from the leecher's own descriptors: /proc/<pid>/fdinfo's flags carry O_DIRECT (040000) for the
// descriptor btpeer opened for direct writes, which stays open while the finished download seeds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { directCut } from "../../peer/storage/direct-writes.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { expectSameTree, seedFixture, type SeedFixture } from "../support/seed-fixture.ts";
import { isEvent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";

// 0o40000 on x86_64 (0o200000 on arm64): the platform's own value.
const O_DIRECT_FLAG = fs.constants.O_DIRECT ?? 0;
const PIECE = 256 * 1024;
const linux = process.platform === "linux";

// ramfs refuses O_DIRECT at open (EINVAL), as tmpfs did before Linux 6.6 (tmpfs accepts it on newer
// kernels, so it cannot stand in for a refusing file system here). Mounting one needs root or CAP_SYS_ADMIN.
const ramfs = linux ? makeTempDir("btpeer-direct-ramfs-") : "";
const ramfsMounted = linux && Bun.spawnSync(["mount", "-t", "ramfs", "ramfs", ramfs], { stdout: "pipe", stderr: "pipe" }).exitCode === 0;
if (linux && !ramfsMounted) console.warn("skipping the ramfs test: cannot mount ramfs (needs root or CAP_SYS_ADMIN)");

/** The open flags of every descriptor process `pid` holds on `file` (from /proc/<pid>/fdinfo). */
function openFlags(pid: number, file: string): number[] {
  const want = fs.realpathSync(file);
  const flags: number[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== want) continue;
    const match = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
    if (match) flags.push(Number.parseInt(match[1]!, 8));
  }
  return flags;
}

const hasDirect = (flags: number[]) => flags.some((f) => (f & O_DIRECT_FLAG) !== 0);

/** The single-file download into `out` holds its file open buffered only (no O_DIRECT), and is the seeder's data. */
async function expectBufferedAndIntact(leecher: Btpeer, out: string): Promise<void> {
  const flags = openFlags(leecher.service.pid, path.join(out, "payload.bin"));
  expect(flags.length).toBeGreaterThan(0);
  expect(hasDirect(flags)).toBe(false);
  await expectSameTree(out, path.dirname(single.source));
  await leecher.stop();
}

let single: SeedFixture;
let multi: SeedFixture;
let singleSeeder: Btpeer;
let multiSeeder: Btpeer;

beforeAll(async () => {
  if (!linux) return;
  // 12 whole pieces and a short 13th (12,345 bytes: its tail is not a multiple of 4096).
  single = await seedFixture("btpeer-direct-single-", "payload.bin", PIECE, (file) => makeRandomFile(file, 12 * PIECE + 12_345, 31));
  // a.bin starts at 0 (aligned); b.bin and c.bin start at offsets that are not multiples of 4096.
  multi = await seedFixture("btpeer-direct-multi-", "set", PIECE, (folder) => {
    makeRandomFile(path.join(folder, "a.bin"), 1_000_003, 32);
    makeRandomFile(path.join(folder, "b.bin"), 2_500_001, 33);
    makeRandomFile(path.join(folder, "c.bin"), 700_001, 34);
  });
  singleSeeder = await startBtpeer(["seed", single.torrent, "--dir", path.dirname(single.source), "--no-dht"], { name: "single-file seeder" });
  multiSeeder = await startBtpeer(["seed", multi.torrent, "--dir", path.dirname(multi.source), "--no-dht"], { name: "multi-file seeder" });
});

afterAll(async () => {
  await stopAllServices();
  // Lazily if something still holds it: the mount must never outlive the test.
  if (ramfsMounted && Bun.spawnSync(["umount", ramfs]).exitCode !== 0) Bun.spawnSync(["umount", "-l", ramfs]);
  if (ramfs) removeDir(ramfs);
  if (single) removeDir(single.dir);
  if (multi) removeDir(multi.dir);
}, 30_000);

/** Downloads `fixture` from `seeder` into `out` and waits for `completed`; the leecher stays on, seeding. */
async function download(fixture: SeedFixture, seeder: Btpeer, out: string, extra: string[] = []): Promise<Btpeer> {
  const leecher = await startBtpeer(["download", fixture.torrent, "--out", out, "--peer", seeder.address, "--no-dht", ...extra], { name: "leecher" });
  await leecher.waitFor(isEvent("completed"));
  return leecher;
}

describe("directCut: which part of a write can go with O_DIRECT", () => {
  test("an aligned piece goes direct whole; a short last piece up to its last whole 4096 bytes", () => {
    expect(directCut(1 << 20, 3 << 20, 1 << 20)).toEqual({ head: 0, middle: 1 << 20 });
    expect(directCut(1 << 20, 12 << 18, 12_345)).toEqual({ head: 0, middle: 12_288 });
    expect(directCut(1 << 20, 12 << 18, 4095)).toBeNull();
  });

  test("a region that starts off a block: an unaligned head, when the memory lines up with the file", () => {
    // File position 1,000 with memory at 1,000 past a page: 3,096 bytes to the next block boundary of both.
    expect(directCut(8192 + 1000, 4096 + 1000, 20_000)).toEqual({ head: 3096, middle: 16_384 });
    // Memory and file off by different amounts (a file at an unaligned offset of a multi-file torrent).
    expect(directCut(8192, 4096 + 1000, 20_000)).toBeNull();
  });
});

describe.skipIf(!linux)("direct piece writes (O_DIRECT)", () => {
  test("a single-file download with a short last piece is written with O_DIRECT and equals the seeder's file", async () => {
    const out = path.join(single.dir, "out-direct");
    const leecher = await download(single, singleSeeder, out);
    expect(hasDirect(openFlags(leecher.service.pid, path.join(out, "payload.bin")))).toBe(true);
    await expectSameTree(out, path.dirname(single.source));
    await leecher.stop();
  }, 120_000);

  test("a multi-file torrent: the file at an aligned offset goes direct, the unaligned ones buffered, all intact", async () => {
    const out = path.join(multi.dir, "out-direct");
    const leecher = await download(multi, multiSeeder, out);
    const pid = leecher.service.pid;
    expect(hasDirect(openFlags(pid, path.join(out, "set", "a.bin")))).toBe(true);
    // Their positions and the slots' addresses differ by a non-multiple of 4096: nothing to write direct.
    expect(hasDirect(openFlags(pid, path.join(out, "set", "b.bin")))).toBe(false);
    expect(hasDirect(openFlags(pid, path.join(out, "set", "c.bin")))).toBe(false);
    expect(openFlags(pid, path.join(out, "set", "b.bin")).length).toBeGreaterThan(0); // open, buffered
    await expectSameTree(out, path.dirname(multi.source));
    await leecher.stop();
  }, 120_000);

  test("--no-direct-io writes through the page cache only, and the download is intact", async () => {
    const out = path.join(single.dir, "out-buffered");
    await expectBufferedAndIntact(await download(single, singleSeeder, out, ["--no-direct-io"]), out);
  }, 120_000);
});

describe.skipIf(!ramfsMounted)("a file system that refuses O_DIRECT (ramfs)", () => {
  test("the download falls back to buffered writes and completes intact", async () => {
    // The refusal is real: O_DIRECT cannot be opened there.
    const probe = path.join(ramfs, "probe");
    expect(() => fs.openSync(probe, fs.constants.O_RDWR | fs.constants.O_CREAT | O_DIRECT_FLAG)).toThrow(/EINVAL/);
    fs.rmSync(probe, { force: true });
    const out = path.join(ramfs, "out");
    await expectBufferedAndIntact(await download(single, singleSeeder, out), out);
  }, 120_000);
});
