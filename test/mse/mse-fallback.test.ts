// Under --encryption prefer, a peer that speaks plain BitTorrent only: btpeer's first dial opens with MSE and
// is hung up on, the plain retry follows at once and gets through the handshake, and btpeer remembers it:
// when the peer drops the connection and btpeer dials it again, it opens in plain straight away (one MSE
// opening in all, however many plain handshakes). And the other way: a peer remembered as plain that now
// requires encryption refuses the plain dial, and the MSE retry follows at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { classifyIncoming } from "../../shared/mse/classify.ts";
import { decodeHandshake, encodeHandshake } from "../../shared/wire/codec.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "../peer/btpeer-harness.ts";

let dir = "";
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  dir = makeTempDir("btpeer-mse-fallback-");
  const source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 1_000_000, 3);
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 32768 });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
});

/** A peer that hangs up on anything but a plain handshake, answers a plain one, then closes the connection. */
function plainOnlyPeer() {
  const seen = { mseOpenings: 0, plainHandshakes: 0 };
  let changed = () => {};
  const server = Bun.listen<{ buf: Uint8Array }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buf: new Uint8Array(0) };
      },
      data(socket, chunk) {
        const buf = new Uint8Array(socket.data.buf.length + chunk.length);
        buf.set(socket.data.buf);
        buf.set(chunk, socket.data.buf.length);
        socket.data.buf = buf;
        if (classifyIncoming(buf) === "mse") {
          seen.mseOpenings++;
          changed();
          return void socket.end();
        }
        const hs = decodeHandshake(buf, 0);
        if ("need" in hs) return;
        seen.plainHandshakes++;
        changed();
        socket.write(
          encodeHandshake({
            reserved: new Uint8Array(8),
            infoHash: meta.infoHash,
            peerId: new TextEncoder().encode(`-XX0001-plainonly${seen.plainHandshakes % 10}00`),
          }),
        );
        setTimeout(() => socket.end(), 100); // gone again: btpeer dials it once more after its back-off
      },
    },
  });
  return {
    seen,
    address: `127.0.0.1:${server.port}`,
    until(condition: () => boolean, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`gave up waiting: ${JSON.stringify(seen)}`)), timeoutMs); // safety bound only
        changed = () => {
          if (!condition()) return;
          clearTimeout(timer);
          resolve();
        };
        changed();
      });
    },
    stop: () => server.stop(true),
  };
}

test("prefer: a plain-only peer costs one MSE attempt; once plain worked, btpeer dials it in plain straight away", async () => {
  const peer = plainOnlyPeer();
  const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "out"), "--no-seed", "--peer", peer.address], { name: "leecher" });
  try {
    await peer.until(() => peer.seen.plainHandshakes >= 3, 60_000);
    expect(peer.seen.mseOpenings).toBe(1);
    const ours = leecher.events().filter((e) => e.event === "peer-connected");
    expect(ours.length).toBeGreaterThanOrEqual(2);
    expect(ours.every((e) => e.outgoing === true && e.encryption === "none")).toBe(true);
  } finally {
    await leecher.stop();
    peer.stop();
  }
}, 90_000);

test("prefer: a peer remembered as plain that now requires encryption hangs up on the plain dial, and the MSE retry follows at once", async () => {
  const port = freePort();
  const src = path.join(dir, "src");
  // A slow plain-only seeder first (the download must outlast it), then one requiring encryption on the same port.
  const plainSeeder = await startBtpeer(["seed", torrent, "--dir", src, "--encryption", "disable", "--upload-limit", "16K"], { name: "plain seeder", port });
  const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "out-2"), "--no-seed", "--peer", `127.0.0.1:${port}`], { name: "leecher" });
  const connected = () => leecher.events().filter((e) => e.event === "peer-connected");
  await leecher.waitFor((e) => e.event === "peer-connected", 30_000);
  expect(connected().map((e) => e.encryption)).toEqual(["none"]); // after the refused MSE attempt
  await plainSeeder.stop();
  const strictSeeder = await startBtpeer(["seed", torrent, "--dir", src, "--encryption", "require"], { name: "strict seeder", port });
  try {
    await leecher.waitFor((e) => e.event === "completed", 60_000);
    // Its first dial to the new seeder was plain (remembered) and refused; the MSE retry got in.
    const refused = strictSeeder.events().filter((e) => e.event === "incoming-dropped" && e.code === "encryption-policy");
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(String(refused[0]!.reason)).toContain("plain BitTorrent handshake under --encryption require");
    expect(connected().map((e) => e.encryption)).toEqual(["none", "mse-rc4"]);
  } finally {
    await leecher.stop();
    await strictSeeder.stop();
  }
}, 120_000);
