// Which blocks to ask which peer for: pieces under way first, then a new piece (piece-choice.ts: a few
// random ones, then rarest first, or in order in sequential mode), and a strict end game (only once every
// missing block is requested, the last outstanding blocks are asked of other peers too; the first copy
// wins, the rest are cancelled). Only wanted pieces (wanted.ts: those touching a file not skipped) are ever
// started. Pure bookkeeping: no I/O, no timers.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { PaddingMap } from "../storage/padding.ts";
import { BlockLayout, type PickerGeometry } from "./block-layout.ts";
import { PieceChoice } from "./piece-choice.ts";
import { PieceProgress, type PickerPeer } from "./piece-progress.ts";
import { PiecePriority } from "./wanted.ts";

export { PieceProgress, type PickerPeer } from "./piece-progress.ts";
export type { PickerGeometry } from "./block-layout.ts";

const MAX_DUPLICATES_PER_BLOCK = 3;

const NONE_UNDER_WAY: ReadonlyMap<number, never> = new Map<number, never>();
const NONE_OPEN: ReadonlySet<never> = new Set<never>();

export class PiecePicker<T> extends BlockLayout {
  // Made when the first piece is started: a picker with nothing under way (a seeder's) holds none of them.
  private underWay: Map<number, PieceProgress<T>> | null = null;
  /**
   * Pieces that failed with data from several peers: their next fetch comes from one peer alone, so a
   * failure then is that peer's, and a pass shows which earlier blocks were wrong.
   */
  private parole: Set<number> | null = null;
  /** Pieces under way that still have never-requested blocks: what step 1 of `pick` scans. */
  private openPieces: Set<PieceProgress<T>> | null = null;
  /** Which piece to start next, and the availability counts it goes by. */
  private readonly choice: PieceChoice;
  /** Wanted pieces we lack that are not under way: none left is the end game. */
  private missingNotStarted: number;
  /** Wanted pieces we lack: none left is the download complete for the user. */
  private missingWanted: number;
  /** Per piece: PiecePriority (Skip: never started). */
  private priority: Uint8Array;
  /** Pieces not skipped. */
  wantedPieces: number;

  /** The first choice is the lowest wanted missing piece (streaming), not the rarest. */
  get sequential(): boolean {
    return this.choice.sequential;
  }

  set sequential(on: boolean) {
    this.choice.sequential = on;
  }

  /** Pieces under way, by index. */
  get inProgress(): ReadonlyMap<number, PieceProgress<T>> {
    return this.underWay ?? NONE_UNDER_WAY;
  }

  private get open(): ReadonlySet<PieceProgress<T>> {
    return this.openPieces ?? NONE_OPEN;
  }

  private underWayMap(): Map<number, PieceProgress<T>> {
    return (this.underWay ??= new Map());
  }

  private openSet(): Set<PieceProgress<T>> {
    return (this.openPieces ??= new Set());
  }

  constructor(
    geometry: PickerGeometry,
    private readonly have: Bitfield,
    /** BEP 47 padding: blocks wholly inside it count as received from the start and are never asked for. */
    private readonly padding: PaddingMap | null = null,
  ) {
    super(geometry);
    this.priority = new Uint8Array(geometry.pieceCount).fill(PiecePriority.Normal);
    this.choice = new PieceChoice(geometry.pieceCount, have, padding, this, this.priority);
    this.missingNotStarted = geometry.pieceCount - have.count();
    this.missingWanted = this.missingNotStarted;
    this.wantedPieces = geometry.pieceCount;
  }

  /**
   * New per-piece priorities (wanted.ts). Pieces under way that are no longer wanted are the caller's to
   * give up (Downloader.setPriorities); they no longer count as missing.
   */
  setPriorities(priority: Uint8Array): void {
    if (priority.length !== this.geometry.pieceCount) throw new RangeError(`${priority.length} piece priorities for ${this.geometry.pieceCount} pieces`);
    this.priority = priority;
    this.choice.setPriorities(priority);
    this.missingWanted = 0;
    this.missingNotStarted = 0;
    this.wantedPieces = 0;
    for (let i = 0; i < priority.length; i++) {
      if (priority[i] === PiecePriority.Skip) continue;
      this.wantedPieces++;
      if (this.have.has(i)) continue;
      this.missingWanted++;
      if (!this.inProgress.has(i)) this.missingNotStarted++;
    }
  }

  isWanted(index: number): boolean {
    return this.priority[index] !== PiecePriority.Skip;
  }

  /** Every wanted piece is verified and on disk (what the user asked for is complete). */
  get wantedComplete(): boolean {
    return this.missingWanted === 0;
  }

  /** Wanted pieces verified and on disk. */
  get wantedHave(): number {
    return this.wantedPieces - this.missingWanted;
  }

  addPeerPieces(pieces: Bitfield): void {
    this.choice.addPeerPieces(pieces);
  }

  removePeerPieces(pieces: Bitfield): void {
    this.choice.removePeerPieces(pieces);
  }

  addHave(index: number): void {
    this.choice.addHave(index);
  }

  /** True when the peer has a wanted piece we lack. */
  wants(peer: PickerPeer): boolean {
    if (this.missingWanted === 0) return false;
    for (let i = 0; i < this.geometry.pieceCount; i++) if (!this.have.has(i) && this.priority[i] !== PiecePriority.Skip && peer.peerPieces.has(i)) return true;
    return false;
  }

  /** `have` was changed from outside while no piece was under way (a re-check): count the missing again. */
  haveReplaced(): void {
    this.setPriorities(this.priority);
  }

  get inEndGame(): boolean {
    return this.missingNotStarted === 0;
  }

  /**
   * Picks up to `max` blocks for `peer` into `out` (keys). `start(index, length)` is asked before a new
   * piece begins and returns its payload (a pool slot...) or null when none is free: then no new piece
   * starts, which is how a full pool stops requesting.
   */
  pick(peer: PickerPeer, max: number, start: ((index: number, length: number) => T | null) | null, out: number[]): void {
    if (max <= 0) return;
    // 1. Finish pieces already under way (fewer pieces in the pool, sooner verified).
    for (const progress of this.open) {
      if (!peer.peerPieces.has(progress.index) || !this.mayFetch(progress, peer)) continue;
      this.takeUnrequested(progress, max, out);
      if (out.length >= max) return;
    }
    // 2. Start new pieces (`start` is null while the pool is full: no scan at all then).
    while (start && out.length < max) {
      const index = this.chooseNewPiece(peer);
      if (index < 0) break;
      const payload = start(index, this.pieceLength(index));
      if (payload === null) return; // pool full: wait for a slot
      this.choice.started(index);
      const progress = new PieceProgress(index, this.pieceLength(index), payload);
      this.markPadding(progress);
      if (this.parole?.has(index)) progress.owner = peer.id;
      this.underWayMap().set(index, progress);
      this.openSet().add(progress);
      this.missingNotStarted--;
      this.takeUnrequested(progress, max, out);
    }
    // 3. End game: everything missing is requested; ask this peer for blocks still outstanding elsewhere.
    if (out.length < max && this.inEndGame) {
      for (const progress of this.inProgress.values()) {
        if (!peer.peerPieces.has(progress.index) || !this.mayFetch(progress, peer)) continue;
        for (let b = 0; b < progress.blockCount && out.length < max; b++) {
          if (progress.received[b] || progress.requested[b]! >= MAX_DUPLICATES_PER_BLOCK) continue;
          const key = this.blockKey(progress.index, b);
          if (peer.outstanding.has(key) || out.includes(key)) continue; // never twice to the same peer
          progress.requested[b]!++;
          out.push(key);
        }
      }
    }
  }

  /**
   * Claims up to `max` consecutive pieces, none of them under way, for a source that fetches whole pieces
   * alone (a web seed): each is owned by `source` (no peer joins it, not even in end game) and all its
   * blocks count as requested. The run starts at the least available piece the source has (lowest index on
   * ties, so runs stay sequential) and stops at the first piece that cannot be claimed or has no payload.
   */
  claimRun(source: PickerPeer, max: number, start: (index: number, length: number) => T | null): PieceProgress<T>[] {
    const claimed: PieceProgress<T>[] = [];
    let first = -1;
    let lowest = Infinity;
    for (let i = 0; i < this.geometry.pieceCount; i++) {
      if (this.claimable(i, source) && this.choice.availability[i]! < lowest) {
        first = i;
        lowest = this.choice.availability[i]!;
        if (lowest === 0 || this.sequential) break; // sequential: the lowest claimable piece
      }
    }
    for (let i = first; i >= 0 && i < this.geometry.pieceCount && claimed.length < max && this.claimable(i, source); i++) {
      const payload = start(i, this.pieceLength(i));
      if (payload === null) break;
      this.choice.started(i);
      const progress = new PieceProgress(i, this.pieceLength(i), payload);
      this.markPadding(progress);
      progress.owner = source.id;
      for (let b = 0; b < progress.blockCount; b++) if (!progress.received[b]) progress.requested[b] = 1;
      progress.unrequested = 0;
      progress.cursor = progress.blockCount;
      this.underWayMap().set(i, progress);
      this.missingNotStarted--;
      claimed.push(progress);
    }
    return claimed;
  }

  private claimable(index: number, source: PickerPeer): boolean {
    return this.isWanted(index) && !this.have.has(index) && !this.inProgress.has(index) && source.peerPieces.has(index) && !this.padding?.pieceIsPadding(index);
  }

  /** Blocks lying wholly in padding are known zeros: received already (the payload's owner fills them in). */
  private markPadding(progress: PieceProgress<T>): void {
    if (!this.padding || this.padding.empty) return;
    for (let b = 0; b < progress.blockCount; b++) {
      if (!this.padding.blockIsPadding(progress.index, b)) continue;
      progress.received[b] = 1;
      progress.receivedCount++;
      progress.unrequested--;
    }
  }

  private mayFetch(progress: PieceProgress<T>, peer: PickerPeer): boolean {
    return progress.owner === null || progress.owner === peer.id;
  }

  private takeUnrequested(progress: PieceProgress<T>, max: number, out: number[]): void {
    for (let b = progress.cursor; b < progress.blockCount && out.length < max; b++) {
      if (progress.received[b] || progress.requested[b]! > 0) continue;
      progress.requested[b] = 1;
      progress.unrequested--;
      progress.cursor = b + 1;
      out.push(this.blockKey(progress.index, b));
    }
    if (progress.unrequested > 0 && progress.cursor >= progress.blockCount) progress.cursor = 0;
    if (progress.unrequested === 0) this.openPieces?.delete(progress);
  }

  private chooseNewPiece(peer: PickerPeer): number {
    if (this.missingNotStarted === 0) return -1;
    return this.choice.choose(peer);
  }

  /** A block arrived. Returns the progress entry if the block was wanted (not a duplicate), else null. */
  blockReceived(index: number, block: number, from: PickerPeer): PieceProgress<T> | null {
    const progress = this.inProgress.get(index);
    if (!progress || block >= progress.blockCount || progress.received[block]) return null;
    if (progress.requested[block] === 0) {
      progress.unrequested--;
      if (progress.unrequested === 0) this.openPieces?.delete(progress);
    }
    progress.received[block] = 1;
    progress.requested[block] = 0;
    progress.receivedCount++;
    progress.senders[block] = from;
    return progress;
  }

  /** A request will not be answered (choke, disconnect, timeout): the block may be asked of others. */
  requestLost(key: number): void {
    const { index, block } = this.splitKey(key);
    const progress = this.inProgress.get(index);
    if (!progress || progress.received[block] || progress.requested[block] === 0) return;
    progress.requested[block]!--;
    if (progress.requested[block] === 0) {
      progress.unrequested++;
      this.openSet().add(progress);
      if (block < progress.cursor) progress.cursor = block;
    }
  }

  pieceVerified(index: number): void {
    const progress = this.inProgress.get(index);
    if (progress) this.openPieces?.delete(progress);
    this.underWay?.delete(index);
    this.parole?.delete(index);
    if (!this.have.has(index) && this.isWanted(index)) this.missingWanted--;
    this.have.set(index);
    this.choice.verified(index);
    if (this.missingWanted === 0) this.choice.done();
  }

  /** The piece failed its hash: forget its blocks so it is fetched again from scratch (from one peer, on parole). */
  pieceFailed(index: number, parole = false): void {
    if (parole) (this.parole ??= new Set()).add(index);
    const progress = this.inProgress.get(index);
    if (!progress) return;
    this.openPieces?.delete(progress);
    this.underWay?.delete(index);
    this.choice.returned(index);
    if (this.isWanted(index)) this.missingNotStarted++;
  }

  /** Gives up a piece without a verdict (e.g. its slot is needed back). */
  abandon(index: number): void {
    this.pieceFailed(index);
  }
}
