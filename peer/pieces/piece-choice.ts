// Which piece a peer is to start next: a few random pieces first (so we soon have something to trade),
// then rarest first with a random tie-break, or in sequential mode the lowest wanted missing piece; `high`
// pieces before the rest either way. Also keeps the availability counts (how many connected peers have
// each piece) that rarest first goes by.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { PaddingMap } from "../storage/padding.ts";
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
  }

  addPeerPieces(pieces: Bitfield): void {
    for (let i = 0; i < this.pieceCount; i++) if (pieces.has(i)) this.availability[i]!++;
  }

  removePeerPieces(pieces: Bitfield): void {
    for (let i = 0; i < this.pieceCount; i++) if (pieces.has(i) && this.availability[i]! > 0) this.availability[i]!--;
  }

  addHave(index: number): void {
    this.availability[index]!++;
  }

  /** The piece to start for `peer`, or -1 when it has none we want that is not under way. */
  choose(peer: PickerPeer): number {
    const count = this.pieceCount;
    const sequential = this.sequential;
    const random = !sequential && this.have.count() < RANDOM_FIRST_PIECES;
    // Sequential: scan from piece 0, and the first candidate of the best priority is the lowest one.
    const offset = sequential ? 0 : Math.floor(Math.random() * count);
    let best = -1;
    let bestPriority: number = PiecePriority.Skip;
    let bestAvailability = Infinity;
    let ties = 0;
    for (let n = 0; n < count; n++) {
      const i = (n + offset) % count;
      const priority = this.priority[i]!;
      if (priority < bestPriority || priority === PiecePriority.Skip) continue;
      if (this.have.has(i) || this.pieces.inProgress.has(i) || !peer.peerPieces.has(i)) continue;
      // All padding and yet missing: the check at start-up found these zeros do not match the piece's
      // hash, and no peer can send anything else.
      if (this.padding?.pieceIsPadding(i)) continue;
      if (priority > bestPriority) {
        // A higher priority than anything seen: it wins whatever its availability.
        best = i;
        bestPriority = priority;
        bestAvailability = this.availability[i]!;
        ties = 1;
        // Random start point or sequential order: the first candidate of the top priority is the one.
        if ((random || sequential) && priority === this.topPriority) return i;
        continue;
      }
      if (random || sequential) continue; // the first one of this priority is already chosen
      const a = this.availability[i]!;
      if (a < bestAvailability) {
        best = i;
        bestAvailability = a;
        ties = 1;
      } else if (a === bestAvailability && Math.random() * ++ties < 1) {
        best = i;
      }
    }
    return best;
  }
}

function maxOf(values: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}
