// `--bind <address>`: a real btpeer seeder listens on that address only, and a real leecher dials out from
// its own. All of 127.0.0.0/8 is loopback on Linux, so 127.0.0.2 and 127.0.0.3 stand for a server's
// several addresses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { CLI, isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";

let dir = "";
let torrent = "";
let source = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-bind-");
  source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 2 * 1024 * 1024 + 321, 23);
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** Resolves with whether a TCP connection to host:port comes up (it is closed at once). */
function connects(hostname: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    Bun.connect({
      hostname,
      port,
      socket: {
        open(socket) {
          socket.end();
          resolve(true);
        },
        data() {},
        connectError() {
          resolve(false);
        },
      },
    }).catch(() => resolve(false));
  });
}

function runCli(args: string[]) {
  const r = Bun.spawnSync([process.execPath, CLI, ...args], { stdout: "pipe", stderr: "pipe", cwd: dir, timeout: 60_000 });
  return { code: r.exitCode, err: r.stderr.toString() };
}

describe("btpeer --bind", () => {
  test("a seeder bound to 127.0.0.2 listens there only; a leecher bound to 127.0.0.3 dials from it and completes", async () => {
    const seederPort = freePort();
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--bind", "127.0.0.2"], { name: "bound seeder", port: seederPort });
    // A plain listener beside the seeder records where the leecher's connections come from.
    const origins: string[] = [];
    const observer = Bun.listen({
      hostname: "127.0.0.2",
      port: 0,
      socket: {
        open(socket) {
          origins.push(socket.remoteAddress);
        },
        data() {},
      },
    });
    try {
      expect(await connects("127.0.0.1", seederPort)).toBe(false);
      expect(await connects("127.0.0.2", seederPort)).toBe(true);

      const out = path.join(dir, "out");
      const leecher = await startBtpeer(
        ["download", torrent, "--out", out, "--no-seed", "--bind", "127.0.0.3", "--peer", `127.0.0.2:${seederPort}`, "--peer", `127.0.0.2:${observer.port}`],
        { name: "bound leecher" },
      );
      await leecher.waitFor(isEvent("completed"), 60_000);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
      expect(origins.length).toBeGreaterThanOrEqual(1);
      expect(new Set(origins)).toEqual(new Set(["127.0.0.3"]));
    } finally {
      observer.stop(true);
      await seeder.stop();
    }
  }, 120_000);

  test("an address that is not an IP is a usage error (exit code 2) naming the option", () => {
    const r = runCli(["seed", torrent, "--dir", path.dirname(source), "--bind", "my-server"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--bind wants an IP address");
  });

  test("an address that is not on this machine gives one clear line and exit code 5", () => {
    // 192.0.2.0/24 is reserved for documentation: no machine has it, and binding sends nothing anywhere.
    const r = runCli(["download", torrent, "--out", path.join(dir, "nowhere"), "--bind", "192.0.2.7", "--port", "0", "--peer", "127.0.0.1:1"]);
    expect(r.code).toBe(5);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain("--bind 192.0.2.7: that address is not on this machine");
  });
});
