// The output folder as `btpeer seed` and `btpeer download` meet it: names that merely look like `..` are
// ordinary files, and nothing is ever created or written outside --out, even through a folder inside it
// that is (or becomes, while btpeer runs) a symlink to somewhere else.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File, sha256Tree } from "../support/files.ts";
import { runBtpeer } from "../support/btpeer.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { CLI, isEvent, startBtpeer } from "./btpeer-harness.ts";

let dir = "";

beforeAll(() => {
  dir = makeTempDir("btpeer-out-");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

async function create(source: string, out: string): Promise<string> {
  const r = await runBtpeer(["create", source, "-o", out, "-l", "16K", "--no-date"]);
  expect(r.exitCode, r.stderr).toBe(0);
  return out;
}

describe("names starting with two dots", () => {
  test("a folder `..album` holding `..data` and `..dir/` is seeded and downloaded like any other", async () => {
    const src = path.join(dir, "dots-src");
    makeRandomFile(path.join(src, "..album", "..data"), 100_000, 1);
    makeRandomFile(path.join(src, "..album", "..dir", "x.bin"), 50_000, 2);
    makeRandomFile(path.join(src, "..album", "plain.bin"), 30_000, 3);
    const torrent = await create(path.join(src, "..album"), path.join(dir, "dots.torrent"));
    const seeder = await startBtpeer(["seed", torrent, "--dir", src], { name: "seeder" });
    try {
      const out = path.join(dir, "dots-out");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "leecher" });
      await leecher.waitFor(isEvent("completed"), 60_000);
      expect(await leecher.service.exited).toBe(0);
      expect(Object.fromEntries(await sha256Tree(path.join(out, "..album")))).toEqual(Object.fromEntries(await sha256Tree(path.join(src, "..album"))));
      expect(fs.readdirSync(dir).filter((n) => n.startsWith(".."))).toEqual([]);
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 120_000);

  test("a single file named `..data` is seeded and downloaded into --out itself", async () => {
    const src = path.join(dir, "single-src");
    makeRandomFile(path.join(src, "..data"), 70_000, 4);
    const torrent = await create(path.join(src, "..data"), path.join(dir, "single.torrent"));
    const seeder = await startBtpeer(["seed", torrent, "--dir", src], { name: "seeder" });
    try {
      const out = path.join(dir, "single-out");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "leecher" });
      await leecher.waitFor(isEvent("completed"), 60_000);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "..data"))).toBe(await sha256File(path.join(src, "..data")));
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 120_000);
});

/** Every file below `root` with its SHA-256, to show a folder outside --out was left exactly as it was. */
async function snapshot(root: string): Promise<Record<string, string>> {
  return Object.fromEntries(await sha256Tree(root));
}

/** The folder `album/sub` inside --out, swapped for a symlink to `outside` (the real folder kept aside). */
function swapForSymlink(out: string, outside: string): void {
  fs.renameSync(path.join(out, "album", "sub"), path.join(out, "album", "sub-moved"));
  fs.symlinkSync(outside, path.join(out, "album", "sub"));
}

describe("symlinks below the output folder", () => {
  let torrent = "";
  const src = () => path.join(dir, "sym-src");

  beforeAll(async () => {
    makeRandomFile(path.join(src(), "album", "sub", "x.bin"), 1_500_000, 5);
    makeRandomFile(path.join(src(), "album", "sub", "deeper", "w.bin"), 300_000, 6);
    makeRandomFile(path.join(src(), "album", "top.bin"), 200_000, 7);
    torrent = await create(path.join(src(), "album"), path.join(dir, "sym.torrent"));
  });

  /** A folder outside --out holding files named like the torrent's, so a write through the symlink would land. */
  function bait(name: string): string {
    const outside = path.join(dir, name);
    makeRandomFile(path.join(outside, "x.bin"), 1_500_000, 99);
    makeRandomFile(path.join(outside, "deeper", "w.bin"), 300_000, 98);
    return outside;
  }

  test("a symlink at a grandparent folder of a file: refused with exit 4 before anything is created, inside or out", async () => {
    const out = path.join(dir, "sym-grand-out");
    const outside = path.join(dir, "sym-grand-outside");
    fs.mkdirSync(outside, { recursive: true });
    fs.mkdirSync(path.join(out, "album"), { recursive: true });
    fs.symlinkSync(outside, path.join(out, "album", "sub")); // grandparent of sub/deeper/w.bin
    const r = Bun.spawnSync([process.execPath, CLI, "download", torrent, "--out", out, "--no-seed", "--port", "0", "--peer", "127.0.0.1:1"], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    expect(r.exitCode).toBe(4);
    expect(fs.readdirSync(outside)).toEqual([]); // no folder made through the link
    expect(fs.readdirSync(path.join(out, "album"))).toEqual(["sub"]); // and nothing else made either
    expect(r.stderr.toString().trim().split("\n")).toHaveLength(1);
    expect(r.stderr.toString()).toContain("sub is a symbolic link");
  });

  test("a folder swapped for a symlink after the files were created, before any data came: nothing written outside, exit 4", async () => {
    const out = path.join(dir, "sym-swap-out");
    const outside = bait("sym-swap-outside");
    const before = await snapshot(outside);
    const seederPort = freePort();
    // The leecher creates its files, then waits for a seeder that is not there yet.
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", `127.0.0.1:${seederPort}`], { name: "leecher" });
    swapForSymlink(out, outside);
    const seeder = await startBtpeer(["seed", torrent, "--dir", src()], { name: "seeder", port: seederPort });
    try {
      const code = await leecher.service.exited;
      expect(code).toBe(4);
      const error = leecher.last("error")!;
      expect(error.code).toBe("path-escape");
      expect(String(error.message)).toContain("symbolic link");
      expect(await snapshot(outside)).toEqual(before);
    } finally {
      await seeder.stop();
    }
  }, 120_000);

  test("a folder swapped for a symlink halfway through a download from a slow seeder: nothing written outside", async () => {
    const meta = await runBtpeer(["info", "--json", torrent]);
    const pieces = (JSON.parse(meta.stdout) as { pieces: number }).pieces;
    const out = path.join(dir, "sym-live-out");
    const outside = bait("sym-live-outside");
    const before = await snapshot(outside);
    // A real seeder held to 256 KiB/s: 2 MB take about 8 s, so the swap lands while pieces still arrive.
    const seeder = await startBtpeer(["seed", torrent, "--dir", src(), "--upload-limit", "256K"], { name: "capped seeder" });
    try {
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "leecher" });
      await leecher.waitFor((e) => e.event === "progress" && Number(e.have) >= pieces * 0.2 && Number(e.have) < pieces * 0.8, 60_000);
      swapForSymlink(out, outside);
      const code = await leecher.service.exited;
      // Files already open keep going to the folder set aside (inside --out); a file opened after the
      // swap is refused. Either way: complete inside, or a clear path-escape error and exit 4.
      if (code === 0) {
        expect(await snapshot(path.join(out, "album", "sub-moved"))).toEqual(await snapshot(path.join(src(), "album", "sub")));
      } else {
        expect(code).toBe(4);
        expect(leecher.last("error")!.code).toBe("path-escape");
      }
      expect(await snapshot(outside)).toEqual(before);
    } finally {
      await seeder.stop();
    }
  }, 120_000);
});

describe("symlinks below the seeded folder", () => {
  test("a folder swapped for a symlink while seeding: nothing is read through it, the seeder stops with exit 4", async () => {
    const src = path.join(dir, "seed-swap-src");
    makeRandomFile(path.join(src, "album", "sub", "x.bin"), 300_000, 8);
    makeRandomFile(path.join(src, "album", "top.bin"), 100_000, 9);
    const torrent = await create(path.join(src, "album"), path.join(dir, "seed-swap.torrent"));
    // The bait outside holds the very same bytes: served through the link, a download would succeed.
    const outside = path.join(dir, "seed-swap-outside");
    fs.cpSync(path.join(src, "album", "sub"), outside, { recursive: true });
    const seeder = await startBtpeer(["seed", torrent, "--dir", src], { name: "seeder" });
    swapForSymlink(src, outside);
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "seed-swap-out"), "--no-seed", "--peer", seeder.address], {
      name: "leecher",
    });
    try {
      expect(await seeder.service.exited).toBe(4);
      const error = seeder.last("error")!;
      expect(error.code).toBe("path-escape");
      expect(String(error.message)).toContain("symbolic link");
      expect(leecher.events().some(isEvent("completed"))).toBe(false);
    } finally {
      await leecher.stop();
    }
  }, 120_000);
});
