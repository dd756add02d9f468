// The pieces that may be started (wanted, missing, not under way, not all padding), kept grouped by
// priority and by availability, and findable in index order: so choosing a piece looks at the few that can
// win instead of scanning every piece of the torrent. PieceChoice keeps it in step with the picker.
import type { PickerPeer } from "./piece-progress.ts";
import { PiecePriority } from "./wanted.ts";

/** Random probes into a bucket before scanning it: a peer holding most of it is served by the first. */
const PROBES = 4;

export class Candidates {
  /** Per piece: its place in its bucket; -1 when it is not a candidate. */
  private readonly place: Int32Array;
  /** Per priority, per availability: the candidates, in no order. */
  private readonly buckets: number[][][] = [];
  /** Per priority: how many candidates. */
  private readonly counts: number[] = [];
  /** Per priority: no candidate of that priority lies below this piece (for sequential order). */
  private readonly lowestAt: number[] = [];

  constructor(
    private readonly priority: Uint8Array,
    private readonly availability: Uint32Array,
    topPriority: number,
  ) {
    this.place = new Int32Array(priority.length).fill(-1);
    for (let p = 0; p <= topPriority; p++) {
      this.buckets.push([]);
      this.counts.push(0);
      this.lowestAt.push(0);
    }
  }

  has(index: number): boolean {
    return this.place[index]! >= 0;
  }

  add(index: number): void {
    if (this.place[index]! >= 0) return;
    const p = this.priority[index]!;
    this.push(index, p, this.availability[index]!);
    this.counts[p]!++;
    if (index < this.lowestAt[p]!) this.lowestAt[p] = index;
  }

  remove(index: number): void {
    if (this.place[index]! < 0) return;
    const p = this.priority[index]!;
    this.take(index, p, this.availability[index]!);
    this.counts[p]!--;
  }

  /** Its availability changed from `from` (already counted anew). */
  moved(index: number, from: number): void {
    if (this.place[index]! < 0) return;
    const p = this.priority[index]!;
    this.take(index, p, from);
    this.push(index, p, this.availability[index]!);
  }

  /**
   * Rarest first: of the highest priority the peer holds a candidate of, the least available one, a tie
   * broken at random (uniformly). Pieces counted as held by no peer are tried last: the peer's own pieces
   * are counted (Downloader), so only a caller that did not count them has any.
   */
  rarest(peer: PickerPeer): number {
    for (let p = this.buckets.length - 1; p > PiecePriority.Skip; p--) {
      if (this.counts[p] === 0) continue;
      const byAvailability = this.buckets[p]!;
      for (let a = 1; a < byAvailability.length; a++) {
        const found = pickFrom(byAvailability[a], peer);
        if (found >= 0) return found;
      }
    }
    for (let p = this.buckets.length - 1; p > PiecePriority.Skip; p--) {
      const found = pickFrom(this.buckets[p]![0], peer);
      if (found >= 0) return found;
    }
    return -1;
  }

  /** Sequential: of the highest priority the peer holds a candidate of, the lowest piece. */
  lowest(peer: PickerPeer): number {
    const count = this.place.length;
    for (let p = this.buckets.length - 1; p > PiecePriority.Skip; p--) {
      if (this.counts[p] === 0) continue;
      // What lies below the lowest candidate stays below it until add() moves the mark back.
      let i = this.lowestAt[p]!;
      while (i < count && !this.isOf(i, p)) i++;
      this.lowestAt[p] = i;
      for (; i < count; i++) if (this.isOf(i, p) && peer.peerPieces.has(i)) return i;
    }
    return -1;
  }

  /**
   * The first candidate from a random point on (wrapping), of the highest priority the peer holds one of:
   * a few random pieces first, whatever their availability. Scans: used for those few only.
   */
  fromRandomPoint(peer: PickerPeer): number {
    const count = this.place.length;
    const top = this.buckets.length - 1;
    const offset = Math.floor(Math.random() * count);
    let best = -1;
    let bestPriority: number = PiecePriority.Skip;
    for (let n = 0; n < count; n++) {
      const i = (n + offset) % count;
      const p = this.priority[i]!;
      if (p <= bestPriority || this.place[i]! < 0 || !peer.peerPieces.has(i)) continue;
      best = i;
      bestPriority = p;
      if (p === top) return i;
    }
    return best;
  }

  private isOf(index: number, priority: number): boolean {
    return this.place[index]! >= 0 && this.priority[index] === priority;
  }

  private push(index: number, priority: number, availability: number): void {
    const byAvailability = this.buckets[priority]!;
    while (byAvailability.length <= availability) byAvailability.push([]);
    const bucket = byAvailability[availability]!;
    this.place[index] = bucket.length;
    bucket.push(index);
  }

  private take(index: number, priority: number, availability: number): void {
    const bucket = this.buckets[priority]![availability]!;
    const at = this.place[index]!;
    const last = bucket.pop()!;
    if (last !== index) {
      bucket[at] = last;
      this.place[last] = at;
    }
    this.place[index] = -1;
  }
}

/** A piece of `bucket` the peer has, each equally likely; -1 when it has none of them. */
function pickFrom(bucket: number[] | undefined, peer: PickerPeer): number {
  if (!bucket || bucket.length === 0) return -1;
  const pieces = peer.peerPieces;
  // Random probes first: a uniform draw, kept when the peer has it, is uniform over the peer's ones.
  for (let t = 0; t < PROBES; t++) {
    const index = bucket[Math.floor(Math.random() * bucket.length)]!;
    if (pieces.has(index)) return index;
  }
  let chosen = -1;
  let seen = 0;
  for (const index of bucket) if (pieces.has(index) && Math.random() * ++seen < 1) chosen = index;
  return chosen;
}
