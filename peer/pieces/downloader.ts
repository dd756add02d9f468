// The receiving half of a torrent: keeps each peer's request pipeline full from the picker (requests.ts) and
// copies arriving blocks into their pool slot (the one copy; piece-slots.ts); a finished piece is checked,
// written once and then announced with `have` (piece-finisher.ts, where failed pieces are blamed too). Only
// blocks asked of that very peer are taken. A download limit caps what is requested (request-budget.ts), and
// web seeds fetch whole pieces beside the peers (whole-pieces.ts). A fast peer's (BEP 6)
// rejects give blocks back for others and a choke leaves its allowed fast pieces asked (fast-answers.ts,
// allowed-fast-view.ts).
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { BlockSink, PieceAssembly } from "./piece-assembly.ts";
import { PiecePicker, type PickerPeer, type PieceProgress } from "./picker.ts";
import type { BufferPool } from "./pool.ts";
import { PaddingMap } from "../storage/padding.ts";
import type { PieceHasher } from "../verify/hash-pool.ts";
import { PieceFinisher } from "./piece-finisher.ts";
import { PieceSlots } from "./piece-slots.ts";
import { WholePieces } from "./whole-pieces.ts";
import { allowedFastReceived, rejectReceived, type AnswerHost } from "./fast-answers.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { ByteBudget } from "../net/rate-budget.ts";
import { Requests } from "./requests.ts";

export interface PieceWriter {
  /** Writes a verified piece off the main thread; `data` stays untouched until the promise settles. */
  writePieceAsync(index: number, data: Uint8Array): Promise<void>;
}

/** A source that fetches whole pieces alone (a web seed, see PiecePicker.claimRun); told each one's verdict. */
export interface WholePieceSource extends PickerPeer {
  pieceChecked(index: number, ok: boolean): void;
}

export interface DownloaderHooks {
  peers(): Iterable<SwarmPeer>;
  /** A piece is verified and on disk (`have` goes out from here). */
  pieceDone(index: number): void;
  /** `senders` sent its blocks; on parole, it is fetched again from one peer before anyone is blamed. */
  pieceFailed(index: number, senders: SwarmPeer[], parole: boolean): void;
  /** A peer's address sent bad data too often: ban it (the peer may have left already). */
  ban(peer: SwarmPeer, reason: string): void;
  /** Writing a piece failed (disk full, I/O error): the torrent cannot go on. */
  writeFailed(error: unknown): void;
}

/** Chokes a peer may send us in a minute before it is dropped: each unchoke makes us fill its pipeline again. */
export const MAX_CHOKES_PER_MINUTE = 20;

const NO_PIECES: ReadonlySet<number> = new Set();

export class Downloader {
  readonly picker: PiecePicker<PieceAssembly>;
  /** Payload bytes accepted into pieces this run. */
  downloaded = 0;
  // Made when first needed (a finished piece, a fast peer's answer, a web seed's run): a torrent that only
  // seeds (most of a daemon's) holds none of them.
  private finisherPart: PieceFinisher | null = null;
  private fastAnswers: AnswerHost | null = null;
  /** The piece memory (piece-slots.ts). */
  private readonly slots: PieceSlots;
  private wholesPart: WholePieces | null = null;
  /** Our requests to the peers (requests.ts). */
  private readonly requests: Requests;

  constructor(
    private readonly meta: Metainfo,
    readonly have: Bitfield,
    /** Null while the torrent does not download (seeding, paused): a torrent holds memory only while it needs it. */
    pool: BufferPool | null,
    private readonly storage: PieceWriter,
    private readonly hooks: DownloaderHooks,
    /** Checks finished pieces on another thread; null: hash on this one as blocks arrive. */
    hasher: PieceHasher | null = null,
  ) {
    const padding = new PaddingMap(meta.files, meta.pieceLength, meta.length);
    this.picker = new PiecePicker(meta, have, padding);
    this.slots = new PieceSlots(pool, hasher, padding);
    this.requests = new Requests(this.picker);
  }

  /** Finished pieces whose hash check or write is under way (their slots are still held). */
  private get writing(): ReadonlySet<number> {
    return this.finisherPart?.writing ?? NO_PIECES;
  }

  private get finisher(): PieceFinisher {
    return (this.finisherPart ??= new PieceFinisher(this.meta, this.storage, this.hooks, {
      picker: this.picker,
      releaseSlot: (assembly) => this.slots.release(assembly),
      fillAll: () => this.fillAll(),
      takeWholeSource: (index) => this.wholesPart?.take(index),
    }));
  }

  /** Pieces whole-piece sources (web seeds) fetch. */
  private get wholes(): WholePieces {
    return (this.wholesPart ??= new WholePieces({
      picker: this.picker,
      writingPiece: (index) => this.writing.has(index),
      startPiece: (index, length) => (this.slots.mayStart(this.writing.size) ? this.slots.start(index, length) : null),
      finish: (progress) => this.finisher.finish(progress, this.slots.hasher),
      received: (bytes) => {
        this.downloaded += bytes;
      },
      giveUp: (progress) => this.giveUp(progress),
      fillAll: () => this.fillAll(),
    }));
  }

  /** A piece under way goes back to the picker, and its slot to the pool. */
  private giveUp(progress: PieceProgress<PieceAssembly>): void {
    this.picker.abandon(progress.index);
    progress.payload.retire();
    this.slots.release(progress.payload);
  }

  /** Blocks (and rejects) dropped because the peer that sent them had not been asked for them. */
  get unrequestedBlocks(): number {
    return this.requests.unrequestedBlocks;
  }

  /** Pieces verified and written this run. */
  get fetchedPieces(): number {
    return this.finisherPart?.fetchedPieces ?? 0;
  }

  /** Pieces that failed their hash check this run. */
  get failedPieces(): number {
    return this.finisherPart?.failedPieces ?? 0;
  }

  /** What a fast peer's rejects and allowed fast pieces act on (fast-answers.ts). */
  private get answers(): AnswerHost {
    return (this.fastAnswers ??= {
      picker: this.picker,
      fillOthers: (peer) => {
        for (const other of this.hooks.peers()) if (other !== peer) this.fill(other);
      },
      unrequested: (peer, key) => this.requests.unrequested(peer, key),
    });
  }

  /** Every wanted piece is verified and on disk (skipped files aside, the download is done). */
  get complete(): boolean {
    return this.picker.wantedComplete;
  }

  /**
   * New per-piece priorities (wanted.ts): pieces under way that are no longer wanted are given up (those
   * being checked or written finish, and are dropped if still unwanted then), interest is recomputed.
   */
  setPriorities(priority: Uint8Array): void {
    this.picker.setPriorities(priority);
    for (const progress of [...this.picker.inProgress.values()]) {
      // Those a web seed is fetching finish like those being written: dropped when checked if still unwanted.
      if (this.picker.isWanted(progress.index) || this.writing.has(progress.index) || this.wholesPart?.has(progress.index)) continue;
      for (const peer of this.hooks.peers()) this.requests.cancelPiece(peer, progress.index);
      this.giveUp(progress);
    }
    for (const peer of this.hooks.peers()) if (peer.conn.state === "open") this.updateInterest(peer);
  }

  /** Pieces are under way (fetched, checked or written): the piece memory is still in use. */
  get busy(): boolean {
    return this.picker.inProgress.size > 0 || this.writing.size > 0;
  }

  /** Gives the downloader its piece memory (or takes it away): only while no piece is under way. */
  useMemory(pool: BufferPool | null, hasher: PieceHasher | null): void {
    if (this.picker.inProgress.size > 0 || this.writing.size > 0) throw new Error("Downloader: piece memory swapped with pieces under way");
    this.slots.use(pool, hasher);
  }

  /** `have` was changed from outside (a re-check): the picker counts again. Only with no peer and no piece under way. */
  haveReplaced(): void {
    if (this.picker.inProgress.size > 0 || this.writing.size > 0) throw new Error("Downloader: pieces replaced with pieces under way");
    this.picker.haveReplaced();
  }

  /** The peer's bitfield arrived: it replaces what we knew (empty, unless the peer sends it late). */
  bitfieldReceived(peer: SwarmPeer, replaced: Bitfield | null): void {
    if (replaced) this.picker.removePeerPieces(replaced);
    this.picker.addPeerPieces(peer.peerPieces);
    this.updateInterest(peer);
  }

  haveReceived(peer: SwarmPeer, index: number): void {
    this.picker.addHave(index);
    if (!this.have.has(index) && this.picker.isWanted(index) && !peer.conn.amInterested) peer.conn.send({ type: "interested" });
    this.fill(peer);
  }

  peerRemoved(peer: SwarmPeer): void {
    this.dropRequests(peer);
    this.picker.removePeerPieces(peer.peerPieces);
  }

  /**
   * The peer choked us: BEP 3 says pending requests are discarded, so they go back to the picker (those of
   * a fast peer's allowed fast pieces stay: it still serves them). A peer choking us over and over would
   * have us re-send a pipeline of requests at every unchoke: it is dropped.
   */
  choked(peer: SwarmPeer): void {
    const chokes = peer.chokes.note(Date.now());
    if (chokes > MAX_CHOKES_PER_MINUTE) return peer.conn.close({ code: "protocol", detail: `choked us ${chokes} times in a minute` });
    this.dropRequests(peer, peer.allowedFast);
    this.fill(peer); // its allowed fast pieces, if any
  }

  /** Gives the peer's outstanding requests back to the picker, but those for pieces in `keep`. */
  dropRequests(peer: SwarmPeer, keep: ReadonlySet<number> = NO_PIECES): void {
    this.requests.drop(peer, keep);
    this.abandonParole(peer);
  }

  /** BEP 6: the peer will not serve this request (fast-answers.ts). */
  rejected(peer: SwarmPeer, index: number, begin: number, length: number): void {
    rejectReceived(this.answers, peer, index, begin, length);
  }

  /** BEP 6: the peer serves `index` even while it chokes us. */
  allowedFast(peer: SwarmPeer, index: number): void {
    if (allowedFastReceived(peer, index, this.have) && peer.conn.peerChoking) this.fill(peer);
  }

  /** A piece on parole must come from its one peer: if that peer stops sending, the fetch starts over. */
  private abandonParole(peer: SwarmPeer): void {
    for (const progress of [...this.picker.inProgress.values()]) {
      if (progress.owner !== peer.id || this.writing.has(progress.index)) continue;
      this.giveUp(progress);
    }
  }

  updateInterest(peer: SwarmPeer): void {
    const want = !this.complete && this.picker.wants(peer);
    if (want && !peer.conn.amInterested) peer.conn.send({ type: "interested" });
    else if (!want && peer.conn.amInterested) peer.conn.send({ type: "not-interested" });
    if (want) this.fill(peer);
  }

  /** Tops up the peer's pipeline. */
  fill(peer: SwarmPeer): void {
    const conn = peer.conn;
    if (conn.state !== "open" || !conn.amInterested || this.complete) return;
    this.requests.fill(peer, this.slots, this.writing.size);
  }

  /** Requests from now on are paid from `limit` (null: no limit). */
  setLimit(limit: ByteBudget | null): void {
    this.requests.setLimit(limit, () => this.fillAll());
  }

  fillAll(): void {
    for (const peer of this.hooks.peers()) this.fill(peer);
  }

  /**
   * A `piece` message: `block` is a view into the socket's chunk, copied once into the slot here. Taken only
   * if we asked this peer for exactly this block; checked before any state changes.
   */
  blockReceived(peer: SwarmPeer, index: number, begin: number, block: Uint8Array): void {
    const key = this.picker.keyAt(index, begin);
    if (key < 0 || !peer.outstanding.has(key)) return this.requests.unrequested(peer, key);
    const progress = this.picker.inProgress.get(index);
    if (!progress) return void peer.outstanding.delete(key); // the piece was given up meanwhile
    const blockIndex = begin / BLOCK_SIZE;
    if (block.length !== progress.blockLength(blockIndex)) {
      // Closing gives the block (and the rest of the peer's requests) back to the picker.
      return peer.conn.close({ code: "protocol", detail: `block ${index}:${begin} of ${block.length} bytes, ${progress.blockLength(blockIndex)} asked for` });
    }
    peer.outstanding.delete(key);
    peer.conn.lastBlockAt = Date.now();
    const wasDuplicated = progress.requested[blockIndex]! > 1;
    if (!this.picker.blockReceived(index, blockIndex, peer)) return; // a late duplicate (end game)
    progress.payload.addBlock(begin, block);
    this.downloaded += block.length;
    if (wasDuplicated || this.picker.inEndGame) this.requests.cancelElsewhere(this.hooks.peers(), peer, key, index, begin, block.length);
    if (progress.receivedCount === progress.blockCount) this.finisher.finish(progress, this.slots.hasher);
    // The pipeline is topped up once the chunk's blocks are all in: one pick for many blocks.
    peer.conn.afterChunk((peer.topUp ??= () => this.fill(peer)));
  }

  /**
   * A `piece` message's header arrived but its block is split across socket chunks: where to stream it
   * (its place in the pool slot), or null to let the connection buffer it. Only blocks we asked this
   * peer for, and only one streamer per block.
   */
  blockSink(peer: SwarmPeer, index: number, begin: number, length: number): BlockSink | null {
    const key = this.picker.keyAt(index, begin);
    const progress = this.picker.inProgress.get(index);
    if (key < 0 || !progress || !peer.outstanding.has(key)) return null;
    return progress.payload.openStream(begin, length) ? progress.payload : null;
  }

  /**
   * Up to `maxPieces` consecutive pieces for a whole-piece source, each in its own pool slot (whole-pieces.ts).
   */
  claimRun(source: WholePieceSource, maxPieces: number): PieceProgress<PieceAssembly>[] {
    if (this.complete || !this.slots.held) return [];
    return this.wholes.claimRun(source, maxPieces, this.slots.slotCount);
  }

  /** A whole-piece source put block `begin` of its piece in place in the slot. False when the piece is no longer its own to fill. */
  wholeBlockReceived(source: WholePieceSource, progress: PieceProgress<PieceAssembly>, begin: number, length: number): boolean {
    return this.wholes.blockReceived(source, progress, begin, length);
  }

  /** The source stopped (an error, a timeout): its unfinished pieces go back to the picker for anyone. */
  releaseWhole(source: WholePieceSource, run: readonly PieceProgress<PieceAssembly>[]): void {
    this.wholes.release(source, run);
  }

  /** Resolves once no piece check or write is under way (before the files are closed, or the memory given back). */
  writesSettled(): Promise<void> {
    return this.finisherPart?.writesSettled() ?? Promise.resolve();
  }

  /** Releases the slots of pieces under way and stops the budget timer (at shutdown). */
  abandonAll(): void {
    this.requests.stop();
    for (const progress of [...this.picker.inProgress.values()]) {
      if (this.writing.has(progress.index)) continue; // its write releases the slot when it settles
      this.wholesPart?.forget(progress.index);
      this.giveUp(progress);
    }
  }
}
