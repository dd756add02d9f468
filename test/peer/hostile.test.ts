// Hostile peers, written here with Bun sockets and the shared codec: each one misbehaves in one way.
// The btpeer leecher must drop each without crashing and still complete from the one good peer (a btpeer
// seeder that only comes up once the bad-data peer has been caught, so that peer surely gets requests).
// The hostile peers listen on 127.0.0.2: bans hold for a whole IP, and the good seeder is on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import type { TCPSocketListener } from "bun";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { fullBitfield, newWireReadState, readWire, refusedOpening, type WireReadState } from "./scripted-peer.ts";
import fs from "node:fs";

const HOSTILE_HOST = "127.0.0.2";

type Behaviour = "wrong-info-hash" | "huge-length" | "bad-bitfield" | "request-past-end" | "bad-data" | "silent";

interface HostilePeer {
  behaviour: Behaviour;
  port: number;
  server: TCPSocketListener<WireReadState>;
  /** Set when the leecher closed the connection on us. */
  closed: Promise<void>;
  requestsAnswered: number;
}

function startHostile(behaviour: Behaviour, meta: Metainfo): HostilePeer {
  let onClosed!: () => void;
  const closed = new Promise<void>((r) => (onClosed = r));
  const peerId = new TextEncoder().encode(`-XX0001-${behaviour}`.padEnd(20, "x").slice(0, 20));
  const peer: HostilePeer = { behaviour, port: 0, server: null as never, closed, requestsAnswered: 0 };
  const frame = (m: Parameters<typeof encodeMessage>[0]) => encodeMessage(m);
  peer.server = Bun.listen<WireReadState>({
    hostname: HOSTILE_HOST,
    port: 0,
    socket: {
      open(socket) {
        socket.data = newWireReadState();
      },
      data(socket, chunk) {
        if (behaviour === "silent") return;
        if (refusedOpening(socket.data, chunk)) return void socket.end();
        readWire(socket.data, chunk, meta.pieceCount, {
          handshake() {
            const infoHash = behaviour === "wrong-info-hash" ? new Uint8Array(20).fill(7) : meta.infoHash;
            socket.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId }));
            if (behaviour === "huge-length") socket.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 7]));
            if (behaviour === "bad-bitfield") socket.write(frame({ type: "bitfield", bits: new Uint8Array(Math.ceil(meta.pieceCount / 8) + 3) }));
            if (behaviour === "request-past-end") {
              socket.write(frame({ type: "interested" }));
              socket.write(frame({ type: "request", index: meta.pieceCount + 5, begin: 0, length: 16384 }));
            }
            if (behaviour === "bad-data") {
              socket.write(frame({ type: "bitfield", bits: fullBitfield(meta.pieceCount) }));
              socket.write(frame({ type: "unchoke" }));
            }
          },
          // bad-data: answer every request with a block of the right size and the wrong content.
          message(m) {
            if (behaviour === "bad-data" && m.type === "request") {
              const block = new Uint8Array(m.length).fill(0xab);
              socket.write(frame({ type: "piece", index: m.index, begin: m.begin, block }));
              peer.requestsAnswered++;
            }
          },
        });
      },
      close(socket) {
        if (!socket.data.refused) onClosed(); // a refused opening is not the leecher dropping us
      },
    },
  });
  peer.port = peer.server.port;
  return peer;
}

let dir = "";
let torrent = "";
let meta: Metainfo;
const hostiles: HostilePeer[] = [];

beforeAll(async () => {
  dir = makeTempDir("btpeer-hostile-");
  makeRandomFile(path.join(dir, "src", "data.bin"), 8 * 1024 * 1024 + 999, 9);
  torrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
});

afterAll(async () => {
  for (const h of hostiles) h.server.stop(true);
  await stopAllServices();
  removeDir(dir);
}, 30_000);

describe("a btpeer leecher among hostile peers", () => {
  test("drops a wrong info hash, a huge length prefix, a wrong-size bitfield, a request past the end, bad data (banned) and a silent peer, and completes from the good peer", async () => {
    for (const b of ["wrong-info-hash", "huge-length", "bad-bitfield", "request-past-end", "bad-data", "silent"] as const) hostiles.push(startHostile(b, meta));
    const seederPort = freePort(); // the good peer comes up later, on this port
    const peerArgs = [...hostiles.map((h) => `${HOSTILE_HOST}:${h.port}`), `127.0.0.1:${seederPort}`].flatMap((a) => ["--peer", a]);
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "out"), "--no-seed", ...peerArgs], { name: "leecher" });

    const byBehaviour = (b: Behaviour) => hostiles.find((h) => h.behaviour === b)!;
    const bounded = (p: Promise<void>, what: string) =>
      Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`${what} was not dropped`)), 30_000))]);
    for (const b of ["wrong-info-hash", "huge-length", "bad-bitfield", "request-past-end"] as const) await bounded(byBehaviour(b).closed, b);

    // The bad-data peer is the only one serving for now: its pieces fail the hash check until it is banned.
    const banned = await leecher.waitFor(isEvent("peer-banned"), 60_000);
    expect(String(banned.peer)).toBe(`${HOSTILE_HOST}:${byBehaviour("bad-data").port}`);
    await bounded(byBehaviour("bad-data").closed, "bad-data");
    expect(leecher.events().filter(isEvent("piece-failed")).length).toBeGreaterThanOrEqual(1);
    expect(leecher.events().some((e) => e.event === "completed")).toBe(false); // bad data never counts as done

    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src")], { name: "good seeder", port: seederPort });
    const done = await leecher.waitFor(isEvent("completed"), 90_000);
    expect(done.have).toBe(done.pieces);
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(dir, "out", "data.bin"))).toBe(await sha256File(path.join(dir, "src", "data.bin")));
    await bounded(byBehaviour("silent").closed, "silent"); // handshake timeout, or closed at exit
    await seeder.stop();
  }, 170_000);
});
