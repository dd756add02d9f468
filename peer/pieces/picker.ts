// Which blocks to ask which peer for: a few random pieces first (so we soon have something to trade),
// then rarest first with a random tie-break, and a strict end game (only once every missing block is
// requested, the last outstanding blocks are asked of other peers too; the first copy wins, the rest
// are cancelled). Pure bookkeeping: no I/O, no timers.
import type { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { PaddingMap } from "../storage/padding.ts";

export interface PickerGeometry {
  pieceCount: number;
  pieceLength: number;
  length: number;
}

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

const RANDOM_FIRST_PIECES = 4;
const MAX_DUPLICATES_PER_BLOCK = 3;

export class PiecePicker<T> {
  readonly availability: Uint32Array;
  readonly inProgress = new Map<number, PieceProgress<T>>();
  /**
   * Pieces that failed with data from several peers: their next fetch comes from one peer alone, so a
   * failure then is that peer's, and a pass shows which earlier blocks were wrong.
   */
  readonly parole = new Set<number>();
  /** Pieces under way that still have never-requested blocks: what step 1 of `pick` scans. */
  private readonly open = new Set<PieceProgress<T>>();
  readonly blocksPerPiece: number;
  private missingNotStarted: number;

  constructor(
    private readonly geometry: PickerGeometry,
    private readonly have: Bitfield,
    /** BEP 47 padding: blocks wholly inside it count as received from the start and are never asked for. */
    private readonly padding: PaddingMap | null = null,
  ) {
    this.availability = new Uint32Array(geometry.pieceCount);
    this.blocksPerPiece = Math.ceil(geometry.pieceLength / BLOCK_SIZE);
    this.missingNotStarted = geometry.pieceCount - have.count();
  }

  /** A unique number for block `block` of piece `index`, used as a key in per-peer request sets. */
  blockKey(index: number, block: number): number {
    return index * this.blocksPerPiece + block;
  }

  /** The key of the block that starts at byte `begin` of piece `index`, or -1 when no block starts there. */
  keyAt(index: number, begin: number): number {
    if (index >= this.geometry.pieceCount || begin % BLOCK_SIZE !== 0 || begin >= this.pieceLength(index)) return -1;
    return this.blockKey(index, begin / BLOCK_SIZE);
  }

  splitKey(key: number): { index: number; block: number } {
    const index = Math.floor(key / this.blocksPerPiece);
    return { index, block: key - index * this.blocksPerPiece };
  }

  pieceLength(index: number): number {
    if (index < this.geometry.pieceCount - 1) return this.geometry.pieceLength;
    return this.geometry.length - this.geometry.pieceLength * (this.geometry.pieceCount - 1);
  }

  addPeerPieces(pieces: Bitfield): void {
    for (let i = 0; i < this.geometry.pieceCount; i++) if (pieces.has(i)) this.availability[i]!++;
  }

  removePeerPieces(pieces: Bitfield): void {
    for (let i = 0; i < this.geometry.pieceCount; i++) if (pieces.has(i) && this.availability[i]! > 0) this.availability[i]!--;
  }

  addHave(index: number): void {
    this.availability[index]!++;
  }

  /** True when the peer has a piece we lack. */
  wants(peer: PickerPeer): boolean {
    for (let i = 0; i < this.geometry.pieceCount; i++) if (!this.have.has(i) && peer.peerPieces.has(i)) return true;
    return false;
  }

  /** `have` was changed from outside while no piece was under way (a re-check): count the missing again. */
  haveReplaced(): void {
    this.missingNotStarted = this.geometry.pieceCount - this.have.count() - this.inProgress.size;
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
      const progress = new PieceProgress(index, this.pieceLength(index), payload);
      this.markPadding(progress);
      if (this.parole.has(index)) progress.owner = peer.id;
      this.inProgress.set(index, progress);
      this.open.add(progress);
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
      if (this.claimable(i, source) && this.availability[i]! < lowest) {
        first = i;
        lowest = this.availability[i]!;
        if (lowest === 0) break;
      }
    }
    for (let i = first; i >= 0 && i < this.geometry.pieceCount && claimed.length < max && this.claimable(i, source); i++) {
      const payload = start(i, this.pieceLength(i));
      if (payload === null) break;
      const progress = new PieceProgress(i, this.pieceLength(i), payload);
      this.markPadding(progress);
      progress.owner = source.id;
      for (let b = 0; b < progress.blockCount; b++) if (!progress.received[b]) progress.requested[b] = 1;
      progress.unrequested = 0;
      progress.cursor = progress.blockCount;
      this.inProgress.set(i, progress);
      this.missingNotStarted--;
      claimed.push(progress);
    }
    return claimed;
  }

  private claimable(index: number, source: PickerPeer): boolean {
    return !this.have.has(index) && !this.inProgress.has(index) && source.peerPieces.has(index) && !this.padding?.pieceIsPadding(index);
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
    if (progress.unrequested === 0) this.open.delete(progress);
  }

  private chooseNewPiece(peer: PickerPeer): number {
    const count = this.geometry.pieceCount;
    const random = this.have.count() < RANDOM_FIRST_PIECES;
    const offset = Math.floor(Math.random() * count);
    let best = -1;
    let bestAvailability = Infinity;
    let ties = 0;
    for (let n = 0; n < count; n++) {
      const i = (n + offset) % count;
      if (this.have.has(i) || this.inProgress.has(i) || !peer.peerPieces.has(i)) continue;
      // All padding and yet missing: the check at start-up found these zeros do not match the piece's
      // hash, and no peer can send anything else.
      if (this.padding?.pieceIsPadding(i)) continue;
      if (random) return i; // random start point: the first candidate is a random one
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

  /** A block arrived. Returns the progress entry if the block was wanted (not a duplicate), else null. */
  blockReceived(index: number, block: number, from: PickerPeer): PieceProgress<T> | null {
    const progress = this.inProgress.get(index);
    if (!progress || block >= progress.blockCount || progress.received[block]) return null;
    if (progress.requested[block] === 0) {
      progress.unrequested--;
      if (progress.unrequested === 0) this.open.delete(progress);
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
      this.open.add(progress);
      if (block < progress.cursor) progress.cursor = block;
    }
  }

  pieceVerified(index: number): void {
    const progress = this.inProgress.get(index);
    if (progress) this.open.delete(progress);
    this.inProgress.delete(index);
    this.parole.delete(index);
    this.have.set(index);
  }

  /** The piece failed its hash: forget its blocks so it is fetched again from scratch (from one peer, on parole). */
  pieceFailed(index: number, parole = false): void {
    if (parole) this.parole.add(index);
    const progress = this.inProgress.get(index);
    if (!progress) return;
    this.open.delete(progress);
    this.inProgress.delete(index);
    this.missingNotStarted++;
  }

  /** Gives up a piece without a verdict (e.g. its slot is needed back). */
  abandon(index: number): void {
    this.pieceFailed(index);
  }
}
