// The live progress line of `btpeer download`: drawn in place on a terminal (run under a pseudo-terminal
// with util-linux `script`), absent when stdout is a plain pipe, where only --json carries progress.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { spawnService, stopAllServices } from "../support/processes.ts";
import { needs } from "../support/system.ts";
import { CLI, isEvent, makeTorrent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";

const SCRIPT = { label: "script (util-linux)", probe: () => Bun.which("script") !== null, install: "sudo apt-get install -y util-linux" };

// "  42.0%  ↓ 1.2 MiB/s  ↑ 0 B/s  peers 1  ETA 0:03" (ETA "done" once complete, "--:--" while unknown).
const PROGRESS_LINE = /\d{1,3}\.\d% {2}↓ \d+(\.\d)? [KMGT]?i?B\/s {2}↑ \d+(\.\d)? [KMGT]?i?B\/s {2}peers \d+ {2}ETA (done|--:--|\d+:\d\d(:\d\d)?)/;

let dir = "";
let torrent = "";
let source = "";
let seeder: Btpeer;

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

beforeAll(async () => {
  dir = makeTempDir("btpeer-progress-");
  source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 3 * 1024 * 1024 + 123, 21);
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
  seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "seeder" });
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** Polls a service's output until `match` holds or the time is up; returns the output either way. */
async function outputUntil(read: () => string, match: RegExp, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = read();
  while (!match.test(text) && Date.now() < end) {
    await Bun.sleep(100);
    text = read();
  }
  return text;
}

describe.skipIf(!needs(SCRIPT))("btpeer download: progress on a terminal", () => {
  test("draws one live line in place with percent, down/up rate, peers and ETA", async () => {
    const out = path.join(dir, "tty");
    const cmd = [process.execPath, CLI, "download", torrent, "--out", out, "--port", String(freePort()), "--peer", seeder.address].map(shellQuote).join(" ");
    const tty = await spawnService({ name: "download under a pty", cmd: ["script", "-qfec", cmd, "/dev/null"], graceMs: 5_000 });
    try {
      // Default --seed: it stays on after completing, so the once-a-second line keeps being redrawn.
      const text = await outputUntil(() => tty.output(), new RegExp(`\\r\\x1b\\[2K${PROGRESS_LINE.source}`), 60_000);
      expect(text).toMatch(new RegExp(`\\r\\x1b\\[2K${PROGRESS_LINE.source}`));
      expect(text).not.toContain('"event":'); // human output, not JSON
      expect(await outputUntil(() => tty.output(), /complete: \d+ pieces verified/, 60_000)).toMatch(/complete: \d+ pieces verified/);
    } finally {
      await tty.stop();
    }
    expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
  }, 90_000);
});

describe("btpeer download: progress without a terminal", () => {
  test("a plain pipe gets the started and complete lines but no progress line", async () => {
    const out = path.join(dir, "pipe");
    const piped = await spawnService({
      name: "download into a pipe",
      cmd: [process.execPath, CLI, "download", torrent, "--out", out, "--port", String(freePort()), "--peer", seeder.address],
      ready: { line: /^complete: / },
      readyTimeoutMs: 60_000,
      graceMs: 5_000,
    });
    try {
      await Bun.sleep(2_500); // seeding on: a terminal would have had the line redrawn twice by now
    } finally {
      await piped.stop();
    }
    const text = piped.output();
    expect(text).toMatch(/listening on port \d+/);
    expect(text).toMatch(/complete: \d+ pieces verified/);
    expect(text).not.toMatch(PROGRESS_LINE);
    expect(text).not.toContain("\r");
    expect(text).not.toContain("ETA");
    expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
  }, 90_000);

  test("with --json progress comes as one event per line, about once a second", async () => {
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "json"), "--peer", seeder.address], { name: "json leecher" });
    try {
      await leecher.waitFor(isEvent("completed"), 60_000);
      const progress = await leecher.waitFor(isEvent("progress"), 10_000);
      for (const field of ["percent", "downRate", "upRate", "peers", "have", "pieces"]) expect(typeof progress[field]).toBe("number");
      expect("eta" in progress).toBe(true);
      expect(leecher.service.output()).not.toMatch(PROGRESS_LINE);
    } finally {
      await leecher.stop();
    }
  }, 90_000);
});
