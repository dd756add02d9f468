// The output folder as `btpeer seed` and `btpeer download` meet it: names that merely look like `..` are
// ordinary files, and nothing is ever created or written outside --out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File, sha256Tree } from "../support/files.ts";
import { runBtpeer } from "../support/btpeer.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, startBtpeer } from "./btpeer-harness.ts";

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
