// The piece pool asks Linux for 2 MiB pages (peer/pieces/huge-pages.ts). What the kernel records is read
// back from /proc/<pid>/smaps: a mapping advised with MADV_HUGEPAGE carries `hg` among its VmFlags,
// whatever THP's mode, on any kernel built with THP. First a pool made in this process, then a real btpeer
// leecher mid-download (from a seeder holding only part of the file, so the download, and its pool, stay).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import fs from "node:fs";
import path from "node:path";
import { BufferPool } from "../../peer/pieces/pool.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { type Btpeer, isEvent, makeTorrent, startBtpeer, startPartialSeeder } from "./btpeer-harness.ts";

const MiB = 1024 * 1024;
const THP = fs.existsSync("/sys/kernel/mm/transparent_hugepage/enabled");

interface Mapping {
  start: number;
  end: number;
  flags: string[];
}

function mappings(pid: number | "self"): Mapping[] {
  return fs
    .readFileSync(`/proc/${pid}/smaps`, "utf8")
    .split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
    .map((entry) => {
      const [start, end] = entry
        .slice(0, entry.indexOf(" "))
        .split("-")
        .map((hex) => Number.parseInt(hex, 16));
      const flags = /^VmFlags:(.*)$/m.exec(entry)?.[1]?.trim().split(/\s+/) ?? [];
      return { start: start!, end: end!, flags };
    });
}

const mappingOf = (address: number) => mappings("self").find((m) => m.start <= address && address < m.end);

/** The process's huge-page-advised anonymous memory, in bytes. */
const advisedBytes = (pid: number) => mappings(pid).reduce((sum, m) => sum + (m.flags.includes("hg") ? m.end - m.start : 0), 0);

describe.skipIf(process.platform !== "linux" || !THP)("piece memory on huge pages", () => {
  test("a pool made with hugePages is advised: its whole mapping carries the kernel's hg flag", () => {
    const pool = new BufferPool({ slotSize: MiB, totalBytes: 8 * MiB, shared: true, align: 4096, hugePages: true });
    const first = mappingOf(ptr(pool.acquire()!.bytes));
    expect(first?.flags).toContain("hg");
    const last = mappingOf(ptr(new Uint8Array(pool.buffer, pool.buffer.byteLength - 1, 1)));
    expect(last).toEqual(first);
  });

  test("a pool made without it, or with BTPEER_HUGE_PAGES=0, keeps ordinary pages", () => {
    // In a fresh process: memory an advised pool held keeps its advice when the allocator reuses it for
    // another buffer, which the other tests of this process may already have made.
    const script = `
      import { ptr } from "bun:ffi";
      import { BufferPool } from ${JSON.stringify(path.resolve(import.meta.dir, "../../peer/pieces/pool.ts"))};
      const flags = (pool) => {
        const address = ptr(pool.acquire().bytes);
        for (const entry of require("node:fs").readFileSync("/proc/self/smaps", "utf8").split(/\\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
          const [start, end] = entry.slice(0, entry.indexOf(" ")).split("-").map((hex) => Number.parseInt(hex, 16));
          if (start <= address && address < end) return /^VmFlags:(.*)$/m.exec(entry)[1].trim().split(/\\s+/);
        }
        return null;
      };
      const plain = flags(new BufferPool({ slotSize: ${MiB}, totalBytes: ${8 * MiB}, shared: true, align: 4096 }));
      process.env.BTPEER_HUGE_PAGES = "0";
      const off = flags(new BufferPool({ slotSize: ${MiB}, totalBytes: ${8 * MiB}, shared: true, align: 4096, hugePages: true }));
      console.log(JSON.stringify({ plain, off }));
    `;
    const run = Bun.spawnSync([process.execPath, "-e", script], { env: { ...process.env, BTPEER_HUGE_PAGES: "" } });
    expect(run.exitCode).toBe(0);
    const { plain, off } = JSON.parse(run.stdout.toString()) as { plain: string[] | null; off: string[] | null };
    expect(plain).toContain("rd"); // found the mapping
    expect(plain).not.toContain("hg");
    expect(off).toContain("rd");
    expect(off).not.toContain("hg");
  });

  describe("a btpeer leecher", () => {
    let dir: string;
    let torrent: string;
    let seeder: Btpeer;
    const PIECES_HELD = 3;

    beforeAll(async () => {
      dir = makeTempDir("huge-pages-");
      const source = path.join(dir, "src", "payload.bin");
      makeRandomFile(source, 16 * MiB, 71);
      torrent = await makeTorrent(source, path.join(dir, "payload.torrent"), { pieceLength: MiB });
      seeder = await startPartialSeeder(torrent, source, { pieceLength: MiB, pieces: PIECES_HELD, dir: path.join(dir, "partial") });
    }, 60_000);
    afterAll(async () => {
      await stopAllServices();
      removeDir(dir);
    }, 30_000);

    /** A leecher that has all the seeder holds and waits for the rest: its pool is in use and stays. */
    async function stalledLeecher(name: string, env?: Record<string, string>): Promise<Btpeer> {
      const out = path.join(dir, name);
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--peer", seeder.address, "--no-dht"], { name, ...(env ? { env } : {}) });
      await leecher.waitFor((e) => e.event === "progress" && Number(e.downloaded) >= PIECES_HELD * MiB, 60_000);
      expect(leecher.events().find(isEvent("completed"))).toBeUndefined();
      return leecher;
    }

    test("downloads into memory advised for huge pages, at least its pool's size", async () => {
      const leecher = await stalledLeecher("advised");
      await until(() => advisedBytes(leecher.service.pid) >= 4 * MiB, "the leecher's pool advised for huge pages", { tries: 100, everyMs: 50 });
      await leecher.stop();
    }, 90_000);

    test("with BTPEER_HUGE_PAGES=0 it has no such memory", async () => {
      const leecher = await stalledLeecher("ordinary", { ...process.env, BTPEER_HUGE_PAGES: "0" } as Record<string, string>);
      expect(advisedBytes(leecher.service.pid)).toBe(0);
      await leecher.stop();
    }, 90_000);
  });
});
