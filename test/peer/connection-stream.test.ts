// PeerConnection's receive path: messages split at every kind of chunk boundary decode the same, and a
// piece whose block is split across chunks is copied straight into its pool slot (no staging copy).
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { OUR_MAX_REQUEST } from "../../peer/net/extension-handshake.ts";
import { PeerConnection, type ConnectionHandler } from "../../peer/net/peer-connection.ts";
import { PieceAssembly } from "../../peer/pieces/piece-assembly.ts";
import { BufferPool } from "../../peer/pieces/pool.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE, type WireMessage } from "../../shared/wire/types.ts";

const PIECE = 4 * BLOCK_SIZE;
const INFO_HASH = new Uint8Array(20).fill(7);
const OUR_ID = new Uint8Array(20).fill(1);
const THEIR_ID = new Uint8Array(20).fill(2);

function pieceBytes(seed: number): Uint8Array {
  const out = new Uint8Array(PIECE);
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The wire bytes of a peer that handshakes, then sends control messages around one whole piece. */
function peerStream(piece: Uint8Array, order: number[]): Uint8Array {
  return peerStreamOfRuns(
    piece,
    order.map((b) => [b, 1]),
  );
}

/** The same, with each piece message carrying a run of blocks: [first block, blocks] (the answer to a long request). */
function peerStreamOfRuns(piece: Uint8Array, runs: [number, number][]): Uint8Array {
  const parts: Uint8Array[] = [encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: THEIR_ID })];
  parts.push(encodeMessage({ type: "keep-alive" }), encodeMessage({ type: "have", index: 1 }));
  for (const [b, n] of runs) {
    parts.push(encodeMessage({ type: "piece", index: 0, begin: b * BLOCK_SIZE, block: piece.subarray(b * BLOCK_SIZE, (b + n) * BLOCK_SIZE) }));
    parts.push(encodeMessage({ type: "keep-alive" }));
  }
  parts.push(encodeMessage({ type: "unchoke" }));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

interface Run {
  assembly: PieceAssembly;
  types: string[];
  /** Per received piece message: was its block already in the slot (streamed) rather than in the chunk. */
  inPlace: boolean[];
  streamsOpened: number;
  closeReason: string;
}

/**
 * Feeds `bytes` to a fresh connection in fresh chunks of `chunkSize` bytes, as Bun's socket does. With
 * `stream`, split blocks go to a sink, but those `refuse` names (by offset), which are buffered instead.
 */
function receiveInChunks(bytes: Uint8Array, chunkSize: number, stream = true, refuse: (begin: number) => boolean = () => false): Run {
  const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
  const assembly = new PieceAssembly(pool.acquire()!, 0, PIECE);
  const run: Run = { assembly, types: [], inPlace: [], streamsOpened: 0, closeReason: "" };
  const handler: ConnectionHandler = {
    onHandshake: () => null,
    onMessage(_conn, m: WireMessage) {
      run.types.push(m.type);
      if (m.type !== "piece") return;
      run.inPlace.push(m.block.buffer === pool.buffer);
      expect(assembly.addBlock(m.begin, m.block)).toBe(true);
    },
    onDrain() {},
    onClose(_conn, reason) {
      run.closeReason = reason;
    },
  };
  if (stream) {
    handler.blockSink = (_conn, index, begin, length) => {
      if (index !== 0 || refuse(begin) || !assembly.openStream(begin, length)) return null;
      run.streamsOpened++;
      return assembly;
    };
  }
  const socket = { write: (data: Uint8Array, offset = 0, length = data.length - offset) => length, end() {} };
  const conn = new PeerConnection(
    socket,
    {
      ourPeerId: OUR_ID,
      listenPort: 0,
      outgoing: false,
      address: { ip: "127.0.0.1", port: 1 },
      torrent: { infoHash: INFO_HASH, pieceCount: 4, ourPieces: () => ({ count: () => 0 }) as never },
    },
    handler,
  );
  for (let at = 0; at < bytes.length; at += chunkSize) conn.receive(bytes.slice(at, at + chunkSize));
  return run;
}

const EXPECTED_TYPES = ["keep-alive", "have", "piece", "keep-alive", "piece", "keep-alive", "piece", "keep-alive", "piece", "keep-alive", "unchoke"];

describe("PeerConnection receive path", () => {
  const piece = pieceBytes(5);
  const digest = new Uint8Array(createHash("sha1").update(piece).digest());

  for (const chunkSize of [1, 2, 3, 5, 12, 13, 14, 100, 4099, BLOCK_SIZE + 12, BLOCK_SIZE + 17, 50_000, 1 << 20]) {
    test(`messages in chunks of ${chunkSize} bytes decode in order and the piece verifies`, () => {
      const run = receiveInChunks(peerStream(piece, [0, 1, 2, 3]), chunkSize);
      expect(run.closeReason).toBe("");
      expect(run.types).toEqual(EXPECTED_TYPES);
      expect(run.assembly.complete).toBe(true);
      expect(run.assembly.verify(digest)).toBe(true);
      // A block split across chunks is streamed into the slot; a block inside one chunk is copied from it.
      expect(run.inPlace.filter(Boolean).length).toBe(run.streamsOpened);
      if (chunkSize < BLOCK_SIZE) expect(run.streamsOpened).toBe(4);
      if (chunkSize >= 1 << 20) expect(run.streamsOpened).toBe(0);
    });
  }

  test("without a sink, split blocks are buffered and still arrive whole, out of order", () => {
    const run = receiveInChunks(peerStream(piece, [2, 0, 3, 1]), 1000, false);
    expect(run.types).toEqual(EXPECTED_TYPES);
    expect(run.inPlace).toEqual([false, false, false, false]);
    expect(run.assembly.verify(digest)).toBe(true);
  });

  // The answer to a long request (OUR_MAX_REQUEST) reaches the handler as its blocks, one message each.
  const LONG_TYPES = ["keep-alive", "have", "piece", "piece", "piece", "keep-alive", "piece", "keep-alive", "unchoke"];
  for (const chunkSize of [1, 5, 13, 14, 100, 4099, BLOCK_SIZE + 12, 50_000, 1 << 20]) {
    test(`a piece message of several blocks in chunks of ${chunkSize} bytes arrives as its blocks, and the piece verifies`, () => {
      const run = receiveInChunks(
        peerStreamOfRuns(piece, [
          [0, 3],
          [3, 1],
        ]),
        chunkSize,
      );
      expect(run.closeReason).toBe("");
      expect(run.types).toEqual(LONG_TYPES);
      expect(run.assembly.verify(digest)).toBe(true);
      expect(run.inPlace.filter(Boolean).length).toBe(run.streamsOpened);
      if (chunkSize < BLOCK_SIZE) expect(run.streamsOpened).toBe(4);
    });
  }

  test("blocks of a long piece message that no sink takes are buffered one by one and still arrive whole", () => {
    for (const chunkSize of [7, 1000, BLOCK_SIZE + 12]) {
      const run = receiveInChunks(
        peerStreamOfRuns(piece, [
          [1, 3],
          [0, 1],
        ]),
        chunkSize,
        true,
        (begin) => begin === BLOCK_SIZE || begin === 3 * BLOCK_SIZE,
      );
      expect(run.closeReason).toBe("");
      expect(run.types).toEqual(LONG_TYPES);
      expect(run.assembly.verify(digest)).toBe(true);
    }
    const unstreamed = receiveInChunks(peerStreamOfRuns(piece, [[0, 4]]), 1000, false);
    expect(unstreamed.inPlace).toEqual([false, false, false, false]);
    expect(unstreamed.assembly.verify(digest)).toBe(true);
  });

  test("a piece message over the longest request we serve is refused from its header, streamed or not", () => {
    const bad = encodeMessage({ type: "piece", index: 0, begin: 0, block: new Uint8Array(OUR_MAX_REQUEST + 1) });
    const hs = encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: THEIR_ID });
    const bytes = new Uint8Array(hs.length + bad.length);
    bytes.set(hs);
    bytes.set(bad, hs.length);
    const run = receiveInChunks(bytes, 100);
    expect(run.closeReason).toContain("protocol error");
    expect(run.streamsOpened).toBe(0);
  });
});
