// The order in which the picker starts new pieces, on hand-made swarms of one-block pieces: rarest first
// with ties broken at random among the rarest only, priority over rarity, the peer's own pieces narrowing
// the choice, availability as peers come, send `have` and go, pieces that fail or are given up coming
// back, sequential order, and a few random pieces first.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { PiecePicker, type PickerPeer } from "../../peer/pieces/picker.ts";
import { PiecePriority } from "../../peer/pieces/wanted.ts";

const COUNT = 12;
const geometry = { pieceCount: COUNT, pieceLength: BLOCK_SIZE, length: COUNT * BLOCK_SIZE };
const start = () => ({});

function peerWith(id: number, pieces: Iterable<number>): PickerPeer {
  const bits = new Bitfield(COUNT);
  for (const p of pieces) bits.set(p);
  return { id, peerPieces: bits, outstanding: new Set() };
}

const all = (): number[] => Array.from({ length: COUNT }, (_, i) => i);

/** A picker past the random first pieces (0-3 are had), with `peers` counted. */
function pickerWith(peers: PickerPeer[], haveFirst = 4): PiecePicker<object> {
  const have = new Bitfield(COUNT);
  for (let i = 0; i < haveFirst; i++) have.set(i);
  const picker = new PiecePicker<object>(geometry, have);
  for (const peer of peers) picker.addPeerPieces(peer.peerPieces);
  return picker;
}

/** The piece the picker starts for `peer` next (-1: none), left under way. */
function next(picker: PiecePicker<object>, peer: PickerPeer): number {
  const out: number[] = [];
  picker.pick(peer, 1, start, out);
  return out.length === 0 ? -1 : picker.splitKey(out[0]!).index;
}

/** The piece the picker starts for `peer` next, verified at once (-1: none). */
function take(picker: PiecePicker<object>, peer: PickerPeer): number {
  const index = next(picker, peer);
  if (index >= 0) {
    picker.blockReceived(index, 0, peer);
    picker.pieceVerified(index);
  }
  return index;
}

/** Starts and verifies pieces for `peer` until it gets none; the order they were started in. */
function order(picker: PiecePicker<object>, peer: PickerPeer): number[] {
  const started: number[] = [];
  for (let n = 0; n <= COUNT; n++) {
    const index = take(picker, peer);
    if (index < 0) return started;
    started.push(index);
  }
  throw new Error("more pieces started than the torrent has");
}

/** Peers holding pieces 4-11 so that piece i is held by `counts[i - 4]` of them besides the seed. */
function swarmWith(counts: number[]): PickerPeer[] {
  const peers = [peerWith(0, all())];
  const most = Math.max(...counts);
  for (let k = 0; k < most; k++)
    peers.push(
      peerWith(
        k + 1,
        [4, 5, 6, 7, 8, 9, 10, 11].filter((_, j) => counts[j]! > k),
      ),
    );
  return peers;
}

describe("choosing a new piece", () => {
  test("rarest first: pieces are started from the least available to the most", () => {
    const peers = swarmWith([3, 0, 5, 1, 7, 2, 6, 4]); // availability of 4..11, the seed aside
    const picker = pickerWith(peers);
    expect(order(picker, peers[0]!)).toEqual([5, 7, 9, 4, 11, 6, 10, 8]);
  });

  test("a tie is broken at random, among the rarest pieces only", () => {
    const firsts = new Set<number>();
    for (let trial = 0; trial < 200; trial++) {
      const peers = swarmWith([1, 1, 1, 2, 2, 3, 3, 3]);
      const picker = pickerWith(peers);
      const first = order(picker, peers[0]!);
      expect(first.slice(0, 3).sort((a, b) => a - b)).toEqual([4, 5, 6]);
      expect(first.slice(3, 5).sort((a, b) => a - b)).toEqual([7, 8]);
      firsts.add(first[0]!);
    }
    expect([...firsts].sort((a, b) => a - b)).toEqual([4, 5, 6]); // each of the three came first in some trial
  });

  test("priority goes before rarity; within a priority, rarest first", () => {
    const peers = swarmWith([0, 1, 2, 3, 4, 5, 6, 7]);
    const picker = pickerWith(peers);
    const priority = new Uint8Array(COUNT).fill(PiecePriority.Normal);
    for (const i of [9, 11, 10]) priority[i] = PiecePriority.High;
    priority[6] = PiecePriority.Skip;
    picker.setPriorities(priority);
    expect(order(picker, peers[0]!)).toEqual([9, 10, 11, 4, 5, 7, 8]);
  });

  test("only pieces the peer has: its rarest, whatever is rarer elsewhere", () => {
    const peers = swarmWith([1, 2, 3, 4, 5, 6, 7, 8]);
    const picker = pickerWith(peers);
    const partial = peerWith(99, [6, 9, 11]);
    picker.addPeerPieces(partial.peerPieces);
    expect(order(picker, partial)).toEqual([6, 9, 11]);
    expect(order(picker, peers[0]!)).toEqual([4, 5, 7, 8, 10]);
  });

  test("availability follows peers that come, send `have` and leave", () => {
    const seed = peerWith(0, all());
    const a = peerWith(1, [4, 5]);
    const b = peerWith(2, [4]);
    const picker = pickerWith([seed, a, b]); // 4: 3 peers, 5: 2, 6-11: the seed alone
    const first = take(picker, seed);
    expect([6, 7, 8, 9, 10, 11]).toContain(first);
    for (const id of [3, 4]) picker.addPeerPieces(peerWith(id, [6, 7, 8, 9, 10, 11]).peerPieces); // 6-11: 3
    expect(take(picker, seed)).toBe(5);
    picker.removePeerPieces(a.peerPieces); // 4: 2
    expect(take(picker, seed)).toBe(4);
    const rest = [6, 7, 8, 9, 10, 11].filter((i) => i !== first);
    b.peerPieces.set(rest[0]!);
    picker.addHave(rest[0]!); // 4 peers: the commonest now
    expect(order(picker, seed).at(-1)).toBe(rest[0]!);
  });

  test("a piece that failed or was given up is started again, first when it is the rarest", () => {
    const peers = swarmWith([1, 2, 3, 4, 5, 6, 7, 8]);
    const picker = pickerWith(peers);
    expect(next(picker, peers[0]!)).toBe(4);
    expect(next(picker, peers[0]!)).toBe(5);
    picker.pieceFailed(4);
    expect(next(picker, peers[0]!)).toBe(4);
    picker.abandon(5);
    expect(next(picker, peers[0]!)).toBe(5);
    expect(next(picker, peers[0]!)).toBe(6);
  });

  test("sequential: the lowest first, a failed piece again before the ones after it, `high` before all", () => {
    const peers = swarmWith([8, 7, 6, 5, 4, 3, 2, 1]); // rarest first would go backwards
    const picker = pickerWith(peers, 0);
    picker.sequential = true;
    const seed = peers[0]!;
    expect([next(picker, seed), next(picker, seed), next(picker, seed)]).toEqual([0, 1, 2]);
    picker.pieceFailed(1);
    expect(next(picker, seed)).toBe(1);
    const partial = peerWith(99, [7, 9]);
    picker.addPeerPieces(partial.peerPieces);
    expect(next(picker, partial)).toBe(7);
    const priority = new Uint8Array(COUNT).fill(PiecePriority.Normal);
    priority[10] = PiecePriority.High;
    picker.setPriorities(priority);
    expect(next(picker, seed)).toBe(10);
    expect(next(picker, seed)).toBe(3);
  });

  test("the first few pieces are random, not the rarest, and then rarest first takes over", () => {
    const firsts = new Set<number>();
    for (let trial = 0; trial < 100; trial++) {
      const peers = swarmWith([1, 2, 3, 4, 5, 6, 7, 8]); // 0-3: the seed alone, 4: 2 peers, ... 11: 9
      const picker = pickerWith(peers, 0); // nothing had: random first
      const started = order(picker, peers[0]!);
      expect([...started].sort((a, b) => a - b)).toEqual(all());
      firsts.add(started[0]!);
      // From the fifth on (four pieces in), rarest first.
      const availability = (i: number) => (i < 4 ? 1 : i - 2);
      const later = started.slice(4).map(availability);
      expect(later).toEqual([...later].sort((a, b) => a - b));
    }
    expect(firsts.size).toBeGreaterThan(4); // not always one of the rarest (0-3), nor one fixed piece
  });

  test("a peer whose pieces were never counted still gets them (availability 0)", () => {
    const picker = pickerWith([]);
    const peer = peerWith(1, [8, 10]);
    expect(order(picker, peer).sort((a, b) => a - b)).toEqual([8, 10]);
  });
});
