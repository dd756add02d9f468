// Finished pieces waiting for their write hold back new pieces only once MAX_WRITES_IN_FLIGHT of them wait:
// a real Downloader fed a peer's blocks (SHA-1 checked as they arrive), over a storage whose writes are held
// until the test lets them go.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { Downloader } from "../../peer/pieces/downloader.ts";
import { MAX_WRITES_IN_FLIGHT } from "../../peer/pieces/piece-slots.ts";
import { BufferPool } from "../../peer/pieces/pool.ts";
import type { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";
import { unchokedSeedPeer } from "../support/unchoked-peer.ts";

const PIECE = 4 * BLOCK_SIZE;
const PIECES = MAX_WRITES_IN_FLIGHT + 8;

function setup() {
  const data = new Uint8Array(PIECE * PIECES);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i * 7919) & 0xff;
  const pieceHashes = new Uint8Array(20 * PIECES);
  for (let i = 0; i < PIECES; i++) {
    pieceHashes.set(new Bun.CryptoHasher("sha1").update(data.subarray(i * PIECE, (i + 1) * PIECE)).digest(), i * 20);
  }
  const meta = {
    pieceLength: PIECE,
    pieceCount: PIECES,
    length: data.length,
    files: [{ path: ["x"], length: data.length, offset: 0 }],
    pieceHashes,
  } as unknown as Metainfo;
  const have = new Bitfield(PIECES);
  const held: { index: number; release: () => void }[] = [];
  const storage = {
    writePieceAsync: (index: number) => new Promise<void>((release) => void held.push({ index, release: () => release() })),
  };
  const done: number[] = [];
  const peers: SwarmPeer[] = [];
  const hooks = { peers: () => peers, pieceDone: (index: number) => void done.push(index), pieceFailed() {}, ban() {}, writeFailed() {} };
  const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE * PIECES });
  const downloader = new Downloader(meta, have, pool, storage, hooks);
  const peer = unchokedSeedPeer({ write: (_bytes: Uint8Array, offset = 0, length = _bytes.length - offset) => length, end() {} }, PIECES, have);
  peers.push(peer);
  /** Sends every block asked of the peer, as the peer would, until nothing more is asked (bounded). */
  const answerAll = () => {
    for (let round = 0; round < 10 * PIECES && peer.outstanding.size > 0; round++) {
      for (const key of [...peer.outstanding]) {
        const { index, block } = downloader.picker.splitKey(key);
        const begin = index * PIECE + block * BLOCK_SIZE;
        downloader.blockReceived(peer, index, block * BLOCK_SIZE, data.subarray(begin, begin + BLOCK_SIZE));
      }
    }
  };
  return { downloader, peer, held, done, answerAll };
}

describe("Downloader: pieces waiting for their write", () => {
  test(`no new piece starts while ${MAX_WRITES_IN_FLIGHT} wait for their write; they start again once fewer wait`, async () => {
    const { downloader, peer, held, done, answerAll } = setup();
    downloader.bitfieldReceived(peer, null); // interested: the pipeline is filled
    answerAll();
    // Every piece asked for arrived and passed its check; their writes are held. Pieces under way when the
    // limit was reached still finish, but no new one starts: nothing more is asked, and pieces are left.
    const waiting = held.length;
    expect(waiting).toBeGreaterThanOrEqual(MAX_WRITES_IN_FLIGHT);
    expect(waiting).toBeLessThan(PIECES);
    expect(peer.outstanding.size).toBe(0);
    expect(downloader.picker.inProgress.size).toBe(waiting);
    // Writes done until one fewer than the limit wait: pieces start again, asked of the peer at once.
    for (const write of held.splice(0, waiting - MAX_WRITES_IN_FLIGHT + 1)) write.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(done.length).toBe(waiting - MAX_WRITES_IN_FLIGHT + 1);
    expect(peer.outstanding.size).toBeGreaterThan(0);
    answerAll();
    expect(held.length).toBeGreaterThanOrEqual(MAX_WRITES_IN_FLIGHT);
    for (const write of held.splice(0)) write.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    downloader.abandonAll();
  });
});
