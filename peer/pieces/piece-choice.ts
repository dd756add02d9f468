// Which piece a peer is to start next: a few random pieces first (so we soon have something to trade),
// then rarest first with a random tie-break, or in sequential mode the lowest wanted missing piece; `high`
// pieces before the rest either way. Also keeps the availability counts (how many connected peers have
// each piece) that rarest first goes by. The pieces that may be started are kept in Candidates
// (candidates.ts), so a choice does not scan the whole torrent.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { PaddingMap } from "../storage/padding.ts";
import { Candidates } from "./candidates.ts";
import type { PickerPeer } from "./piece-progress.ts";
import { PiecePriority } from "./wanted.ts";

const RANDOM_FIRST_PIECES = 4;

export class PieceChoice {
  /** Per piece: how many connected peers have it. */
  readonly availability: Uint32Array;
  /** Per piece: PiecePriority (Skip: never started). */
  private priority: Uint8Array;
  /** The highest priority of any piece. */
  private topPriority: number = PiecePriority.Normal;
  /** The first choice is the lowest wanted missing piece (streaming), not the rarest. */
  sequential = false;
  /**
   * Made at the first choice (a seeder never makes one), then told of every piece started, given back
   * or verified; made again after new priorities or a re-check, and let go once every wanted piece is in.
   */
  private candidates: Candidates | null = null;

  constructor(
    private readonly pieceCount: number,
    private readonly have: Bitfield,
    private readonly padding: PaddingMap | null,
    /** Pieces under way are not started again. */
    private readonly pieces: { readonly inProgress: ReadonlyMap<number, unknown> },
    priority: Uint8Array,
  ) {
    this.availability = new Uint32Array(pieceCount);
    this.priority = priority;
  }

  setPriorities(priority: Uint8Array): void {
    this.priority = priority;
    this.topPriority = Math.max(PiecePriority.Normal, maxOf(priority));
    this.candidates = null;
  }

  addPeerPieces(pieces: Bitfield): void {
    const candidates = this.candidates;
    for (let i = 0; i < this.pieceCount; i++) {
      if (!pieces.has(i)) continue;
      this.availability[i]!++;
      candidates?.moved(i, this.availability[i]! - 1);
    }
  }

  removePeerPieces(pieces: Bitfield): void {
    const candidates = this.candidates;
    for (let i = 0; i < this.pieceCount; i++) {
      if (!pieces.has(i) || this.availability[i] === 0) continue;
      this.availability[i]!--;
      candidates?.moved(i, this.availability[i]! + 1);
    }
  }

  addHave(index: number): void {
    this.availability[index]!++;
    this.candidates?.moved(index, this.availability[index]! - 1);
  }

  /** The piece is under way now (a peer's, or a web seed's claim). */
  started(index: number): void {
    this.candidates?.remove(index);
  }

  /** A piece under way failed or was given up: it may be started again if still wanted. */
  returned(index: number): void {
    if (this.priority[index] !== PiecePriority.Skip && !this.have.has(index)) this.candidates?.add(index);
  }

  verified(index: number): void {
    this.candidates?.remove(index);
  }

  /** Every wanted piece is in: nothing left to choose (new priorities or a re-check make them again). */
  done(): void {
    this.candidates = null;
  }

  /** The piece to start for `peer`, or -1 when it has none we want that is not under way. */
  choose(peer: PickerPeer): number {
    const candidates = (this.candidates ??= this.collect());
    if (this.sequential) return candidates.lowest(peer);
    if (this.have.count() < RANDOM_FIRST_PIECES) return candidates.fromRandomPoint(peer);
    return candidates.rarest(peer);
  }

  private collect(): Candidates {
    const candidates = new Candidates(this.priority, this.availability, this.topPriority);
    for (let i = 0; i < this.pieceCount; i++) {
      if (this.priority[i] === PiecePriority.Skip || this.have.has(i) || this.pieces.inProgress.has(i)) continue;
      // All padding and yet missing: the check at start-up found these zeros do not match the piece's
      // hash, and no peer can send anything else.
      if (this.padding?.pieceIsPadding(i)) continue;
      candidates.add(i);
    }
    return candidates;
  }
}

function maxOf(values: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}
