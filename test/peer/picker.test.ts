// PiecePicker, Choker and pipelining depth: pure logic, checked on small hand-made swarms.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { Choker, type ChokerPeer } from "../../peer/upload/choker.ts";
import { PiecePicker, type PickerPeer } from "../../peer/pieces/picker.ts";
import { pipelineDepth } from "../../peer/pieces/pipeline.ts";
import { PaddingMap } from "../../peer/storage/padding.ts";

const geometry = { pieceCount: 8, pieceLength: 4 * BLOCK_SIZE, length: 7 * 4 * BLOCK_SIZE + 100 };
const peerWith = (id: number, pieces: number[]): PickerPeer => {
  const bits = new Bitfield(geometry.pieceCount);
  for (const p of pieces) bits.set(p);
  return { id, peerPieces: bits, outstanding: new Set() };
};
const start = () => ({});

describe("PiecePicker", () => {
  test("after the first random pieces, starts the rarest piece first", () => {
    const have = new Bitfield(geometry.pieceCount);
    for (const i of [0, 1, 2, 3]) have.set(i); // past the random-first phase
    const picker = new PiecePicker(geometry, have);
    const everyone = peerWith(1, [0, 1, 2, 3, 4, 5, 6, 7]);
    picker.addPeerPieces(everyone.peerPieces);
    picker.addPeerPieces(peerWith(2, [4, 5, 7]).peerPieces);
    picker.addPeerPieces(peerWith(3, [4, 5, 7]).peerPieces);
    const out: number[] = [];
    picker.pick(everyone, 4, start, out); // piece 6 is held by one peer only: the rarest
    expect(out.map((k) => picker.splitKey(k).index)).toEqual([6, 6, 6, 6]);
  });

  test("starts no new piece while the pool is full, but finishes pieces under way", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    // Full-size pieces only: a random first pick of the one-block last piece would leave none under way.
    const peer = peerWith(1, [0, 1, 2, 3, 4, 5, 6]);
    picker.addPeerPieces(peer.peerPieces);
    const out: number[] = [];
    picker.pick(peer, 2, start, out);
    const first = picker.splitKey(out[0]!).index;
    out.length = 0;
    picker.pick(peer, 10, null, out); // null: no slot free
    expect(out.map((k) => picker.splitKey(k).index)).toEqual([first, first]);
    expect(picker.inProgress.size).toBe(1);
  });

  test("the last piece is short and its last block has the remaining length", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    expect(picker.pieceLength(7)).toBe(100);
    const peer = peerWith(1, [7]);
    picker.addPeerPieces(peer.peerPieces);
    const out: number[] = [];
    picker.pick(peer, 10, start, out);
    expect(out).toHaveLength(1);
    expect(picker.inProgress.get(7)!.blockLength(0)).toBe(100);
  });

  test("end game: once every block is requested, another peer is asked for the outstanding ones, and an arrival ends the duplicate", () => {
    const have = new Bitfield(geometry.pieceCount);
    for (let i = 0; i < 7; i++) have.set(i);
    const picker = new PiecePicker(geometry, have);
    const slow = peerWith(1, [7]);
    const fast = peerWith(2, [7]);
    const out: number[] = [];
    picker.pick(slow, 10, start, out);
    for (const k of out) slow.outstanding.add(k);
    expect(picker.inEndGame).toBe(true);
    const dup: number[] = [];
    picker.pick(fast, 10, start, dup);
    expect(dup).toEqual(out);
    const progress = picker.blockReceived(7, 0, fast);
    expect(progress?.receivedCount).toBe(1);
    expect(picker.blockReceived(7, 0, slow)).toBeNull(); // the late copy is a duplicate
  });

  test("a failed piece is fetched again from scratch", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    const peer = peerWith(1, [3]);
    const out: number[] = [];
    picker.pick(peer, 10, start, out);
    for (let b = 0; b < 4; b++) picker.blockReceived(3, b, peer);
    picker.pieceFailed(3);
    out.length = 0;
    picker.pick(peer, 10, start, out);
    expect(out).toHaveLength(4);
    expect(picker.inProgress.get(3)!.receivedCount).toBe(0);
  });

  test("blocks of a peer that choked us go back to the picker for others", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    const a = peerWith(1, [2]);
    const b = peerWith(2, [2]);
    const out: number[] = [];
    picker.pick(a, 4, start, out);
    for (const k of out) picker.requestLost(k);
    const again: number[] = [];
    picker.pick(b, 4, start, again);
    expect(again.sort()).toEqual(out.sort());
  });
});

describe("Choker", () => {
  const peer = (id: number, down: number, up = 0, interested = true, choking = true): ChokerPeer => ({
    id,
    peerInterested: interested,
    amChoking: choking,
    downRate: () => down,
    upRate: () => up,
  });

  test("while leeching, the regular slots go to the peers that give us the most, plus one optimistic unchoke", () => {
    const choker = new Choker(2);
    const peers = [peer(1, 10), peer(2, 500), peer(3, 300), peer(4, 0), peer(5, 0, 0, false)];
    const unchoked = choker.decide(peers, false, 0);
    expect(unchoked.has(2) && unchoked.has(3)).toBe(true);
    expect(unchoked.size).toBe(3);
    expect(unchoked.has(5)).toBe(false); // not interested
  });

  test("while seeding, a peer that held a slot for a full round yields it to one that waited", () => {
    const choker = new Choker(1);
    const a = peer(1, 0, 900, true, true);
    const b = peer(2, 0, 10, true, true);
    const first = choker.decide([a, b], true, 0);
    const holder = [...first].find((id) => id === 1 || id === 2)!;
    const after = choker.decide([peer(1, 0, 900, true, !first.has(1)), peer(2, 0, 10, true, !first.has(2))], true, 60_000);
    // One regular slot plus the optimistic one: both peers still get served, and the regular holder rotated.
    expect(after.size).toBe(2);
    expect(holder === 1 || holder === 2).toBe(true);
  });
});

describe("pipelineDepth", () => {
  test("covers a few seconds at the current rate, within a floor and a cap, never above the peer's reqq", () => {
    expect(pipelineDepth(0, null)).toBe(16);
    expect(pipelineDepth(1024 * 1024, null)).toBe(192); // 1 MiB/s × 3 s ÷ 16 KiB
    expect(pipelineDepth(1e9, null)).toBe(250);
    expect(pipelineDepth(1e9, 2000)).toBe(500);
    expect(pipelineDepth(1e9, 40)).toBe(40);
  });
});

describe("PiecePicker with BEP 47 padding", () => {
  // a.bin ends 100 bytes into piece 1; padding fills the rest of piece 1 and all of piece 2.
  const B = BLOCK_SIZE;
  const files = [
    { offset: 0, length: 4 * B + 100 },
    { offset: 4 * B + 100, length: 4 * B - 100, padding: true },
    { offset: 8 * B, length: 4 * B, padding: true },
    { offset: 12 * B, length: geometry.length - 12 * B },
  ];

  test("never asks for a block lying wholly inside padding, still asks for one partly in it, and never starts an all-padding piece", () => {
    const padding = new PaddingMap(files, geometry.pieceLength, geometry.length);
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount), padding);
    const peer = peerWith(1, [0, 1, 2, 3, 4, 5, 6, 7]);
    picker.addPeerPieces(peer.peerPieces);
    const out: number[] = [];
    picker.pick(peer, 1000, start, out);
    const asked = out.map((k) => picker.splitKey(k)).map(({ index, block }) => `${index}:${block}`);
    expect(asked).toContain("1:0"); // a.bin's last 100 bytes, then padding
    for (const block of [1, 2, 3]) expect(asked).not.toContain(`1:${block}`);
    expect(asked.filter((k) => k.startsWith("2:"))).toEqual([]);
    expect(picker.inProgress.has(2)).toBe(false);
    expect(asked).toHaveLength(5 * 4 + 1 + 1); // pieces 0, 3-6 whole, piece 1's first block, the last piece
    // Piece 1 is complete as soon as its one real block arrives.
    const progress = picker.blockReceived(1, 0, peer)!;
    expect(progress.receivedCount).toBe(progress.blockCount);
  });
});
