// The request pipeline is topped up once per received chunk, not once per block (issue 16): a real
// PeerConnection fed whole chunks as if they came off its socket (writes captured in memory), first with a
// handler that asks for work at the chunk's end, then with a real Downloader whose peer answers a chunk's
// worth of requests at once.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE, type WireMessage } from "../../shared/wire/types.ts";
import { PeerConnection, type ConnectionHandler } from "../../peer/net/peer-connection.ts";
import { Downloader } from "../../peer/pieces/downloader.ts";
import { pipelineDepth } from "../../peer/pieces/pipeline.ts";
import { BufferPool } from "../../peer/pieces/pool.ts";
import { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";
import { recordingSocket } from "../support/unchoked-peer.ts";

const INFO_HASH = new Uint8Array(20).fill(3);

/** Frames back to back, as one socket chunk. */
function chunkOf(messages: WireMessage[]): Uint8Array {
  const frames = messages.map((m) => encodeMessage(m));
  const chunk = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => (chunk.set(f, at), at + f.length), 0);
  return chunk;
}

/** recordingSocket, counting the writes made to it too. */
function countingSocket(pieceCount: number) {
  const socket = recordingSocket(pieceCount);
  let writes = 0;
  return {
    write(bytes: Uint8Array, offset?: number, length?: number) {
      writes++;
      return socket.write(bytes, offset, length);
    },
    end() {},
    messages: () => socket.messages(),
    writes: () => writes,
  };
}

/** An incoming connection past the peer's handshake, its messages going to `handler`. */
function connection(socket: ReturnType<typeof countingSocket>, pieceCount: number, handler: ConnectionHandler): PeerConnection {
  const conn = new PeerConnection(
    socket,
    {
      ourPeerId: new Uint8Array(20).fill(1),
      listenPort: 0,
      outgoing: false,
      address: { ip: "127.0.0.1", port: 1 },
      torrent: { infoHash: INFO_HASH, pieceCount, ourPieces: () => new Bitfield(pieceCount) },
    },
    handler,
  );
  conn.receive(encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: new Uint8Array(20).fill(2) }));
  return conn;
}

describe("PeerConnection.afterChunk", () => {
  test("asked by every message of a chunk, the task runs once, after the chunk's last message; outside a chunk, at once", () => {
    const log: string[] = [];
    let conn!: PeerConnection;
    const task = () => log.push("task");
    conn = connection(countingSocket(8), 8, {
      onHandshake: () => null,
      onMessage(_conn, message) {
        if (message.type !== "have") return;
        log.push(`have ${message.index}`);
        conn.afterChunk(task);
      },
      onDrain() {},
      onClose() {},
    });
    conn.receive(chunkOf([0, 1, 2].map((index) => ({ type: "have", index }))));
    expect(log).toEqual(["have 0", "have 1", "have 2", "task"]);
    log.length = 0;
    conn.afterChunk(task);
    expect(log).toEqual(["task"]);
  });

  test("a chunk that closes the connection runs no task", () => {
    let ran = 0;
    let conn!: PeerConnection;
    conn = connection(countingSocket(8), 8, {
      onHandshake: () => null,
      onMessage() {
        conn.afterChunk(() => ran++);
      },
      onDrain() {},
      onClose() {},
    });
    // A `have` past the torrent's last piece is a protocol error: the connection closes after the first message.
    conn.receive(
      chunkOf([
        { type: "have", index: 1 },
        { type: "have", index: 99 },
      ]),
    );
    expect(conn.state).toBe("closed");
    expect(ran).toBe(0);
  });
});

describe("Downloader: a chunk of blocks", () => {
  test("every block of the chunk is taken and the pipeline is full again after it, its requests in one write", () => {
    const PIECE = 16 * BLOCK_SIZE;
    const PIECES = 64;
    const data = new Uint8Array(PIECE * PIECES);
    for (let i = 0; i < data.length; i += 512) data[i] = (i >>> 9) & 0xff;
    const hashes = new Uint8Array(PIECES * 20);
    for (let i = 0; i < PIECES; i++) hashes.set(new Bun.CryptoHasher("sha1").update(data.subarray(i * PIECE, (i + 1) * PIECE)).digest() as Uint8Array, i * 20);
    const files = [{ path: ["data"], length: data.length, offset: 0 }];
    const meta = { pieceLength: PIECE, pieceCount: PIECES, length: data.length, pieceHashes: hashes, infoHash: INFO_HASH, files } as Metainfo;
    const peers: SwarmPeer[] = [];
    const downloader = new Downloader(
      meta,
      new Bitfield(PIECES),
      new BufferPool({ slotSize: PIECE, totalBytes: 8 * PIECE }),
      { writePieceAsync: async () => {} },
      {
        peers: () => peers.values(),
        pieceDone() {},
        pieceFailed() {},
        ban() {},
        writeFailed: (error) => {
          throw error;
        },
      },
    );
    const socket = countingSocket(PIECES);
    let peer!: SwarmPeer;
    const conn = connection(socket, PIECES, {
      onHandshake: () => null,
      // What the torrent does with these messages (torrent/peer-messages.ts).
      onMessage(_conn, m) {
        if (m.type === "piece") downloader.blockReceived(peer, m.index, m.begin, m.block);
        else if (m.type === "bitfield") downloader.bitfieldReceived(peer, null);
        else if (m.type === "unchoke") downloader.fill(peer);
      },
      onDrain() {},
      onClose() {},
    });
    peer = new SwarmPeer(conn, 1024);
    peers.push(peer);
    const all = new Bitfield(PIECES);
    for (let i = 0; i < PIECES; i++) all.set(i);
    conn.receive(chunkOf([{ type: "bitfield", bits: all.bytes }, { type: "unchoke" }]));
    const requests = () => socket.messages().filter((m): m is Extract<WireMessage, { type: "request" }> => m.type === "request");
    const asked = requests();
    expect(asked.length).toBe(peer.outstanding.size);
    expect(asked.length).toBeGreaterThan(0);

    // The peer answers its first 12 requests in one chunk.
    const answered = asked.slice(0, 12);
    const before = requests().length;
    const writesBefore = socket.writes();
    conn.receive(
      chunkOf(
        answered.map((r) => ({
          type: "piece",
          index: r.index,
          begin: r.begin,
          block: data.subarray(r.index * PIECE + r.begin, r.index * PIECE + r.begin + r.length),
        })),
      ),
    );
    expect(downloader.downloaded).toBe(12 * BLOCK_SIZE);
    for (const r of answered) expect(peer.outstanding.has(downloader.picker.keyAt(r.index, r.begin))).toBe(false);
    // Topped up at the chunk's end: as deep as the peer's rate asks, new requests in a single write.
    expect(peer.outstanding.size).toBe(pipelineDepth(conn.down.rate(), null));
    expect(socket.writes()).toBe(writesBefore + 1);
    expect(requests().length - before).toBe(peer.outstanding.size - (asked.length - answered.length));
    downloader.abandonAll();
  });
});
