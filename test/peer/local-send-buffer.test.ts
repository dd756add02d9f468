// To a peer on this host the seeder's socket keeps a send buffer of 512 KiB instead of letting the kernel
// grow it to megabytes: a local receiver acks bytes only as it reads them, so the grown buffer was that
// many bytes unread in the leecher's socket (a libtorrent leecher held 2-10 MiB from a btpeer seeder,
// against 1-3 from a libtorrent seeder, and spent more CPU per GiB copying them out of a cold cache).
// A real libtorrent leecher downloads from a real btpeer seeder; the seeder's socket is read with `ss -tm`
// (skmem's tb: the send buffer's size) while the transfer runs, the seeder's process's sockets only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { removeDir } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { type Btpeer, isEvent, startBtpeer, startRandomFileSeeder } from "./btpeer-harness.ts";

const SIZE = 256 * 1024 * 1024;

/**
 * The send buffer sizes (skmem tb) of the seeder's established sockets now: those on its port that its own
 * process holds. The port alone is not enough: another process's socket may use the same number as its
 * local port, and the test once read a 3.9 MB buffer that was not the seeder's.
 */
function sendBuffers(port: number, pid: number): number[] {
  const out = Bun.spawnSync(["ss", "-tmnpH", "state", "established", `( sport = :${port} )`]).stdout.toString();
  // One socket per line, its skmem on the indented line after it.
  const sockets = out.split(/\n(?=\S)/);
  return sockets.filter((s) => s.includes(`pid=${pid},`)).flatMap((s) => [...s.matchAll(/\btb(\d+)/g)].map((m) => Number(m[1])));
}

describe.skipIf(!needs(PROGRAMS.libtorrent) || process.platform !== "linux")("the send buffer to a leecher on this host", () => {
  let dir: string;
  let torrent: string;
  let content: Uint8Array;
  let seeder: Btpeer;

  beforeAll(async () => {
    ({ dir, torrent, content, seeder } = await startRandomFileSeeder("local-send-buffer-", SIZE, 53));
  }, 60_000);
  afterAll(async () => {
    await stopAllServices();
    if (dir) removeDir(dir);
  }, 30_000);

  // The full suite once read a fresh socket's 3,939,840 bytes (what the kernel gives any loopback socket as
  // it is established, before a byte is sent) on the seeder's port: the bound came only with the
  // PeerConnection, after the peer's first bytes told plain BitTorrent from MSE, so a connection still
  // waiting for them kept the kernel's size. It is bounded as it is accepted now, whatever follows.
  test("a connection from this host has 512 KiB from its accept, before its first byte", async () => {
    const client = await Bun.connect({ hostname: "127.0.0.1", port: seeder.port, socket: { data() {} } });
    try {
      let seen: number[] = [];
      for (let i = 0; i < 200 && seen.length === 0; i++) {
        await Bun.sleep(10);
        seen = sendBuffers(seeder.port, seeder.service.pid);
      }
      expect(seen.length).toBe(1); // the seeder holds it, its first bytes not sent
      await Bun.sleep(100); // past the event loop's turn that accepted it
      expect(sendBuffers(seeder.port, seeder.service.pid)).toEqual([512 * 1024]);
    } finally {
      client.end();
    }
  }, 30_000);

  test("stays at 512 KiB while libtorrent downloads, and the copy is whole", async () => {
    const out = path.join(dir, "lt-out");
    const lt = await startLtPeer({ mode: "download", torrent, dir: out, peers: [seeder.address], noTrackers: true, highPerformance: true, timeoutS: 120 });
    const seen: number[] = [];
    let done = false;
    const finished = lt.finished().finally(() => {
      done = true;
    });
    while (!done) {
      seen.push(...sendBuffers(seeder.port, seeder.service.pid));
      await Bun.sleep(20);
    }
    await finished;
    // The socket was seen, and never with more than 512 KiB (the kernel grew it to 2-4 MiB before).
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(512 * 1024);
    expect(Buffer.from(fs.readFileSync(path.join(out, "payload.bin"))).equals(Buffer.from(content))).toBe(true);
  }, 180_000);

  // An RC4 payload is never spliced and its connection has no descriptor to write to, so the bound that came
  // with the splice pipe never reached it; it comes with the socket now.
  test("an RC4 connection to a btpeer leecher on this host has it too", async () => {
    const rc4Seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "seed"), "--no-dht", "--encryption", "require"], { name: "rc4 seeder" });
    const out = path.join(dir, "rc4-out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--no-dht", "--encryption", "require", "--peer", rc4Seeder.address], {
      name: "rc4 leecher",
    });
    const seen: number[] = [];
    let done = false;
    const completed = leecher.waitFor(isEvent("completed"), 150_000).finally(() => {
      done = true;
    });
    while (!done) {
      seen.push(...sendBuffers(rc4Seeder.port, rc4Seeder.service.pid));
      await Bun.sleep(20);
    }
    await completed;
    expect(rc4Seeder.events().find(isEvent("peer-connected"))?.encryption).toBe("mse-rc4");
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(512 * 1024);
  }, 180_000);
});
