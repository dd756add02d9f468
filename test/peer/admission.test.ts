// Connection admission on a real `btpeer seed` with four peer slots: connections that hold a slot and do
// nothing, and sockets that never handshake, must not keep a real leecher (another btpeer, libtorrent) out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { Socket } from "bun";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";
import { newWireReadState, readWire, type WireReadState } from "./scripted-peer.ts";

const MAX_PEERS = 4;

let dir = "";
let torrent = "";
let source = "";
let meta: Metainfo;

beforeAll(async () => {
  dir = makeTempDir("btpeer-admission-");
  source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 4 * 1024 * 1024 + 555, 31);
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

interface IdleState extends WireReadState {
  keepAlive: ReturnType<typeof setInterval> | null;
}

/**
 * A peer that completes the handshake, then only sends a keep-alive every second: never interested, never
 * asks for anything, never silent long enough to time out. Resolves once the seeder's handshake arrived
 * (it holds a slot); `closed` resolves when the seeder drops it.
 */
function idlePeer(port: number, n: number): Promise<{ socket: Socket<IdleState>; closed: Promise<void> }> {
  const peerId = new TextEncoder().encode(`-ID0001-idle${n}`.padEnd(20, "x").slice(0, 20));
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  return new Promise((resolve, reject) => {
    Bun.connect<IdleState>({
      hostname: "127.0.0.1",
      port,
      data: { ...newWireReadState(), keepAlive: null },
      socket: {
        open(socket) {
          socket.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash: meta.infoHash, peerId }));
        },
        data(socket, chunk) {
          readWire(socket.data, chunk, meta.pieceCount, {
            handshake() {
              socket.data.keepAlive = setInterval(() => socket.write(encodeMessage({ type: "keep-alive" })), 1_000);
              resolve({ socket, closed });
            },
            message() {},
          });
        },
        close(socket) {
          if (socket.data.keepAlive) clearInterval(socket.data.keepAlive);
          onClosed();
          reject(new Error(`idle peer ${n} was closed before its handshake was answered`));
        },
        connectError(_socket, error) {
          reject(error);
        },
      },
    }).catch(reject);
  });
}

/**
 * Opens TCP connections to `port` at `perSecond`, up to `max` in all, never sending a byte. A socket the
 * seeder closes after it stood for `regrabMs` (a handshake deadline, not a refusal or the handshake cap
 * making room) is replaced at once: an attacker grabbing back every slot the seeder frees. stop() ends it
 * and closes them.
 */
function halfOpenTrickle(port: number, perSecond: number, max: number, regrabMs = 4_500) {
  const open = new Map<Socket<undefined>, number>();
  const stats = { opened: 0, closedBySeeder: 0 };
  let stopped = false;
  const connect = () => {
    if (stopped || stats.opened >= max) return;
    stats.opened++;
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          if (stopped) socket.end();
          else open.set(socket, Date.now());
        },
        data() {},
        close(socket) {
          const since = open.get(socket);
          if (since === undefined || !open.delete(socket) || stopped) return;
          stats.closedBySeeder++;
          if (Date.now() - since >= regrabMs) connect();
        },
      },
    }).catch(() => {});
  };
  const timer = setInterval(() => (stats.opened >= max ? clearInterval(timer) : connect()), 1_000 / perSecond);
  return {
    stats,
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const socket of open.keys()) socket.end();
      open.clear();
    },
  };
}

async function leechFrom(seeder: Btpeer, name: string): Promise<void> {
  const out = path.join(dir, name);
  const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name });
  const done = await leecher.waitFor(isEvent("completed"), 90_000);
  expect(done.have).toBe(meta.pieceCount);
  expect(await leecher.service.exited).toBe(0);
  expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
}

describe("btpeer seed admission with every slot taken", () => {
  test("idle connections holding all the slots give one up to a leecher that wants data", async () => {
    // Held to 512 KiB/s, the download lasts about 8 s: long enough for the leecher to take an idle peer's slot
    // (it is served from the start, above the cap, while it waits for one).
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--max-peers", String(MAX_PEERS), "--upload-limit", "512K"], {
      name: "seeder",
    });
    const idle = [];
    try {
      for (let n = 0; n < MAX_PEERS; n++) idle.push(await idlePeer(seeder.port, n));
      await leechFrom(seeder, "out-idle");
      // The leecher took the slot of one of them.
      const dropped = await Promise.race([Promise.any(idle.map((p) => p.closed)).then(() => true), Bun.sleep(5_000).then(() => false)]);
      expect(dropped).toBe(true);
    } finally {
      for (const p of idle) p.socket.end();
      await seeder.stop();
    }
  }, 150_000);

  test.skipIf(!needs(PROGRAMS.libtorrent))(
    "a libtorrent leecher gets in past idle connections holding all the slots too",
    async () => {
      const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--max-peers", String(MAX_PEERS), "--upload-limit", "512K"], {
        name: "seeder",
      });
      const idle = [];
      try {
        for (let n = 0; n < MAX_PEERS; n++) idle.push(await idlePeer(seeder.port, n));
        const out = path.join(dir, "out-lt");
        fs.mkdirSync(out, { recursive: true });
        const lt = await startLtPeer({ mode: "download", torrent, dir: out, noTrackers: true, peers: [seeder.address], name: "libtorrent leecher" });
        await lt.finished(120_000);
        await lt.stop();
        expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
      } finally {
        for (const p of idle) p.socket.end();
        await seeder.stop();
      }
    },
    150_000,
  );

  test("a trickle of sockets that never handshake does not keep a leecher out", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--max-peers", String(MAX_PEERS)], { name: "seeder" });
    // Twenty a second for at most 100 s: always more half-open sockets than peer slots.
    const trickle = halfOpenTrickle(seeder.port, 20, 2_000);
    try {
      // The leecher comes once the trickle has run past the handshake deadline: by then more sockets are
      // half-open than the seeder keeps handshaking, so both the deadline and the cap are at work.
      for (let i = 0; i < 300 && trickle.stats.opened < 120; i++) await Bun.sleep(100);
      expect(trickle.stats.opened).toBeGreaterThanOrEqual(120);
      await leechFrom(seeder, "out-trickle");
    } finally {
      trickle.stop();
      await seeder.stop();
    }
    expect(trickle.stats.closedBySeeder).toBeGreaterThan(0); // they do not stay forever either
  }, 150_000);
});
