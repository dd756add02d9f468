// A piece under way as the picker tracks it (which blocks are asked for, how often, and which arrived), and
// the peer as the picker sees it.
import type { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";

/** A piece being fetched: which blocks are asked for (and how often) and which arrived. */
export class PieceProgress<T> {
  readonly blockCount: number;
  /** Outstanding requests per block (more than one only in end game). */
  readonly requested: Uint8Array;
  readonly received: Uint8Array;
  /** Who sent each received block: if the hash fails, blame goes to the senders of the wrong blocks. */
  readonly senders: (PickerPeer | undefined)[] = [];
  /** On parole (see PiecePicker.parole): the one peer (connection id) this fetch may come from. */
  owner: number | null = null;
  receivedCount = 0;
  /** Blocks never requested yet; the first of them is at or after `cursor`. */
  unrequested: number;
  cursor = 0;

  constructor(
    readonly index: number,
    readonly length: number,
    readonly payload: T,
  ) {
    this.blockCount = Math.ceil(length / BLOCK_SIZE);
    this.requested = new Uint8Array(this.blockCount);
    this.received = new Uint8Array(this.blockCount);
    this.unrequested = this.blockCount;
  }

  blockLength(block: number): number {
    return Math.min(BLOCK_SIZE, this.length - block * BLOCK_SIZE);
  }
}

/** The peer as the picker sees it: what it has and which block keys it has been asked for. */
export interface PickerPeer {
  readonly id: number;
  readonly peerPieces: Bitfield;
  readonly outstanding: Set<number>;
}
