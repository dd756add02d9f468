// The picker with file priorities and sequential order (pure logic on a hand-made torrent of three files):
// pieces lying wholly in skipped files are never started, a piece shared with a wanted file is, `high`
// pieces go before the rest, sequential order takes the lowest wanted piece first, and completion and
// interest count wanted pieces only.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { PiecePicker, type PickerPeer } from "../../peer/pieces/picker.ts";
import { piecePriorities, type FilePriority } from "../../peer/pieces/wanted.ts";

const PIECE = 2 * BLOCK_SIZE;
// a: pieces 0-2 (ends inside 2), b: 2-5 (ends inside 5), c: 5-9.
const files = [
  { offset: 0, length: 2 * PIECE + 100 },
  { offset: 2 * PIECE + 100, length: 3 * PIECE },
  { offset: 5 * PIECE + 100, length: 5 * PIECE - 100 },
];
const geometry = { files, pieceCount: 10, pieceLength: PIECE, length: 10 * PIECE };
const everyone = (): PickerPeer => {
  const bits = new Bitfield(geometry.pieceCount);
  for (let i = 0; i < geometry.pieceCount; i++) bits.set(i);
  return { id: 1, peerPieces: bits, outstanding: new Set() };
};
const start = () => ({});

function pickerWith(priorities: FilePriority[], have = new Bitfield(geometry.pieceCount)) {
  const picker = new PiecePicker<object>(geometry, have);
  picker.setPriorities(piecePriorities(geometry, priorities));
  const peer = everyone();
  picker.addPeerPieces(peer.peerPieces);
  return { picker, peer, have };
}

/** Pieces in the order the picker starts them, one whole piece per pick. */
function startOrder(picker: PiecePicker<object>, peer: PickerPeer): number[] {
  const order: number[] = [];
  for (;;) {
    const out: number[] = [];
    picker.pick(peer, 2, start, out);
    if (out.length === 0) return order;
    const index = picker.splitKey(out[0]!).index;
    if (!order.includes(index)) order.push(index);
    for (const key of out) picker.blockReceived(index, picker.splitKey(key).block, peer);
    picker.pieceVerified(index);
  }
}

describe("PiecePicker with file priorities", () => {
  test("a piece is wanted when any of its bytes is in a wanted file; the highest file priority is the piece's", () => {
    expect([...piecePriorities(geometry, ["normal", "skip", "high"])]).toEqual([1, 1, 1, 0, 0, 2, 2, 2, 2, 2]);
    expect([...piecePriorities(geometry, ["skip", "skip", "skip"])]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("never starts a piece lying wholly in skipped files, and is complete once the wanted ones are in", () => {
    const { picker, peer, have } = pickerWith(["normal", "skip", "normal"]);
    const order = startOrder(picker, peer);
    expect(order.sort((a, b) => a - b)).toEqual([0, 1, 2, 5, 6, 7, 8, 9]);
    expect(picker.wantedComplete).toBe(true);
    expect(have.isComplete()).toBe(false);
    expect(picker.wants(peer)).toBe(false); // it has 3 and 4, which nobody wants
  });

  test("`high` pieces are started before the others; un-skipping brings the skipped ones back", () => {
    const { picker, peer } = pickerWith(["normal", "skip", "high"]);
    const order = startOrder(picker, peer);
    expect(order.slice(0, 5).sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9]);
    expect(order.slice(5).sort((a, b) => a - b)).toEqual([0, 1, 2]);
    picker.setPriorities(piecePriorities(geometry, ["normal", "normal", "normal"]));
    expect(picker.wantedComplete).toBe(false);
    expect(picker.wants(peer)).toBe(true);
    expect(startOrder(picker, peer).sort((a, b) => a - b)).toEqual([3, 4]);
    expect(picker.wantedComplete).toBe(true);
  });

  test("sequential: the lowest wanted missing piece first, from the very first piece (no random start)", () => {
    const { picker, peer } = pickerWith(["normal", "skip", "normal"]);
    picker.sequential = true;
    expect(startOrder(picker, peer)).toEqual([0, 1, 2, 5, 6, 7, 8, 9]);
  });

  test("sequential with a high file: the high pieces in order first, then the rest in order", () => {
    const { picker, peer } = pickerWith(["high", "normal", "normal"]);
    picker.sequential = true;
    expect(startOrder(picker, peer)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const second = pickerWith(["normal", "normal", "high"]);
    second.picker.sequential = true;
    expect(startOrder(second.picker, second.peer)).toEqual([5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
  });
});
