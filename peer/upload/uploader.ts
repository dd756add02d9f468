// The sending half of a torrent: answers unchoked peers' requests for pieces we have. Queued requests are
// answered a span at a time: up to SPAN_PAYLOAD bytes of blocks are read from disk straight into a pooled buffer,
// each right after its 13-byte piece header, and the whole span goes to the socket as ONE write (one
// syscall for many blocks, no reframing copy); the buffer returns to the pool once the kernel took it.
// Requests are served at the end of the turn that queued them, so a batch of requests becomes one span.
// A peer whose socket is backed up gets nothing more read for it until `drain`. With an upload limit,
// spans are cut to the byte budget, peers take turns a span at a time, and an empty budget waits on a
// timer for a tenth of a second's worth (up to a span): a few large writes rather than a block every
// millisecond, which would wake the receiving peer a thousand times a second.
// Where the connection can take blocks straight from files (PeerConnection.sendsFiles: splice, on Linux),
// a span is not read at all: each block's 13-byte header and file ranges go into the connection's pipe,
// and the kernel sends them from the page cache; spans, the budget and the backpressure threshold are the
// same as for buffers.
import type { Bitfield } from "../../shared/bitfield.ts";
import { pieceSize, type Metainfo } from "../../shared/metainfo/types.ts";
import { writePieceHeader } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { CloseReason } from "../net/close-reason.ts";
import type { ByteBudget } from "../net/rate-budget.ts";
import type { FileRegion } from "../net/write-queue.ts";
import { BufferPool, type PoolSlot } from "../pieces/pool.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import { grantAllowedFast, servedWhileChoked } from "./allowed-fast.ts";

export interface BlockReader {
  readBlock(index: number, begin: number, length: number, into: Uint8Array, intoOffset: number): void;
}

/** A block as file regions for splicing (TorrentStorage.blockRegions): fd -1 is padding (zeros). */
export interface BlockFiles {
  /** False when the block is not (all) in the torrent's own files (a skipped file's parts): read it instead. */
  blockRegions(index: number, begin: number, length: number, visit: (file: number, fd: number, position: number, length: number) => void): boolean;
  /** The fd of `file` handed to a visit may be closed again. */
  releaseFile(file: number): void;
}

const HEADER = 13;
const FRAME = HEADER + BLOCK_SIZE;
/** Blocks sent in one socket write. */
export const SPAN_FRAMES = 16;
/** Bytes queued on one socket before we stop reading blocks for it. */
const HIGH_WATER = 512 * 1024;
/** The most payload one span carries: an upload limit's budget must allow at least this burst. */
export const SPAN_PAYLOAD = BLOCK_SIZE * SPAN_FRAMES;

// A request being served and one block's regions (a block spans a few files at most): filled and read at
// once, in one turn, so every torrent's uploader shares them rather than holding its own.
const ITEM = new Uint32Array(3);
const REGIONS: FileRegion[] = [];
let regionCount = 0;
function addRegion(file: number, fd: number, position: number, length: number): void {
  const r = (REGIONS[regionCount++] ??= { file: 0, fd: 0, position: 0, length: 0 });
  r.file = file;
  r.fd = fd;
  r.position = position;
  r.length = length;
}

export class Uploader {
  /** Payload bytes sent this run. */
  uploaded = 0;
  /** Of those, the bytes spliced from the files (never copied through this process). */
  uploadedByFile = 0;
  /** Span buffers, made at the first request. */
  private pool: BufferPool | null = null;
  private readonly poolBytes: number;
  private readonly waiting = new Set<SwarmPeer>();
  private wakeScheduled = false;
  private budgetTimer: ReturnType<typeof setTimeout> | undefined;
  /** wake() for queueMicrotask, made at the first request: a torrent nobody asks anything of holds none. */
  private waker: (() => void) | null = null;

  constructor(
    private readonly meta: Metainfo,
    private readonly have: Bitfield,
    private readonly reader: BlockReader,
    poolBytes = 8 * 1024 * 1024,
    /** The upload limit (the torrent's and the client's: a RateBudget, whose limits may change), if any. */
    private readonly limit?: ByteBudget,
    /** Reading a block from disk failed (a file gone, a folder swapped for a symlink): nothing more is served. */
    private readonly readFailed: (error: unknown) => void = (error) => {
      throw error;
    },
    /** The same storage as file regions, for connections that take blocks straight from files. */
    private readonly files?: BlockFiles,
  ) {
    this.poolBytes = poolBytes;
  }

  private wake(): void {
    this.wakeScheduled = false;
    const peers = [...this.waiting];
    this.waiting.clear();
    const limit = this.limited();
    for (let i = 0; i < peers.length; i++) {
      if (limit && limit.available() < this.minSpan(limit)) {
        // Out of budget: the peers not reached keep their place in line, ahead of those just served.
        const served = [...this.waiting];
        this.waiting.clear();
        for (let j = i; j < peers.length; j++) this.waiting.add(peers[j]!);
        for (const peer of served) this.waiting.add(peer);
        this.waitForBudget();
        return;
      }
      this.serve(peers[i]!);
    }
  }

  private wakeSoon(): void {
    this.wakeScheduled = true;
    queueMicrotask((this.waker ??= () => this.wake()));
  }

  /** The budget while it limits anything (a RateBudget whose limits are all off does not). */
  private limited(): ByteBudget | null {
    return this.limit && this.limit.rate !== Number.POSITIVE_INFINITY ? this.limit : null;
  }

  /** With a limit: the budget a span waits for (a tenth of a second's worth, whole blocks, one block to one span). */
  private minSpan(limit: ByteBudget): number {
    return Math.min(SPAN_PAYLOAD, Math.max(BLOCK_SIZE, Math.floor(limit.rate / 10 / BLOCK_SIZE) * BLOCK_SIZE));
  }

  /**
   * Returns why to drop the peer, or null. A request we will not serve is dropped in silence (BEP 3), or
   * with a fast peer answered by `reject` (BEP 6: every request gets a piece or a reject).
   */
  requested(peer: SwarmPeer, index: number, begin: number, length: number): CloseReason | null {
    if (begin + length > pieceSize(this.meta, index)) return { code: "out-of-range", detail: `request past the end of piece ${index}` };
    const served =
      (!peer.conn.amChoking || servedWhileChoked(peer, index)) && // choked: only its allowed fast pieces (BEP 6)
      this.have.has(index) && // we may have sent `have` late
      peer.uploads.push(index, begin, length); // over our reqq: dropped like libtorrent does
    if (served) this.serveSoon(peer);
    else this.reject(peer, index, begin, length);
    return null;
  }

  cancelled(peer: SwarmPeer, index: number, begin: number, length: number): void {
    // BEP 6: a cancelled request still gets its one answer; a block already on its way is that answer.
    if (peer.uploads.remove(index, begin, length)) this.reject(peer, index, begin, length);
  }

  /** The peer said it is interested: a fast peer gets its allowed fast set. */
  interested(peer: SwarmPeer): void {
    grantAllowedFast(peer, this.meta.infoHash, this.have);
  }

  /** We choked the peer: its queued requests are void (rejected, for a fast peer), but for its allowed fast pieces. */
  choked(peer: SwarmPeer): void {
    peer.uploads.filter(
      (index) => !servedWhileChoked(peer, index),
      (index, begin, length) => this.reject(peer, index, begin, length),
    );
    if (peer.uploads.length === 0) this.waiting.delete(peer);
  }

  peerRemoved(peer: SwarmPeer): void {
    peer.uploads.clear();
    this.waiting.delete(peer);
  }

  private reject(peer: SwarmPeer, index: number, begin: number, length: number): void {
    if (peer.conn.fast && peer.conn.state === "open") peer.conn.send({ type: "reject", index, begin, length });
  }

  serve(peer: SwarmPeer): void {
    const conn = peer.conn;
    const limit = this.limited();
    while (peer.uploads.peek(ITEM) && conn.state === "open" && conn.queuedBytes < HIGH_WATER) {
      const budget = limit ? limit.available() : Number.POSITIVE_INFINITY;
      // The next request whole (a long one is up to 8 blocks), and a few blocks' worth of them at low rates.
      if (limit && budget < Math.max(ITEM[2]!, Math.min(this.minSpan(limit), peer.uploads.length * BLOCK_SIZE))) {
        this.waitForBudget(peer);
        return;
      }
      let payload = this.files && conn.sendsFiles ? this.spanFromFiles(peer, budget) : 0;
      if (payload === 0) payload = this.spanFromBuffer(peer, budget);
      if (payload < 0) return; // no buffer free (the peer waits for one), or a read failed
      this.uploaded += payload;
      limit?.spend(payload);
      if (limit && peer.uploads.length > 0) {
        // A shared budget: the other waiting peers get a span before this one gets its next.
        this.serveSoon(peer);
        return;
      }
    }
  }

  /** A span read into a pooled buffer, headers and blocks back to back, as ONE write. -1: nothing sent. */
  private spanFromBuffer(peer: SwarmPeer, budget: number): number {
    // Made at the first request: a torrent nobody asks anything of (most of a daemon's) holds no buffer.
    this.pool ??= new BufferPool({ slotSize: FRAME * SPAN_FRAMES, totalBytes: this.poolBytes });
    const slot = this.pool.acquire();
    if (!slot) {
      this.waiting.add(peer);
      return -1;
    }
    let used = 0;
    let payload = 0;
    try {
      while (peer.uploads.peek(ITEM) && used + HEADER + ITEM[2]! <= slot.bytes.length && payload + ITEM[2]! <= budget) {
        peer.uploads.shift(ITEM);
        const index = ITEM[0]!;
        const begin = ITEM[1]!;
        const length = ITEM[2]!;
        this.reader.readBlock(index, begin, length, slot.bytes, used + HEADER);
        writePieceHeader(slot.bytes, used, index, begin, length);
        used += HEADER + length;
        payload += length;
      }
    } catch (error) {
      this.pool.release(slot);
      // Served from a timer or a microtask: thrown from here it would reach no handler at all.
      this.readFailed(error);
      return -1;
    }
    peer.conn.sendFramedBlock(slot.bytes.subarray(0, used), payload, () => this.release(slot));
    return payload;
  }

  /**
   * A span as piece messages spliced from the files (see WriteQueue.sendFileBlock). 0 when the first block
   * cannot go that way now (no room in the connection's pipe, a skipped file's parts): the span then goes
   * from a buffer. -1 when a file is missing.
   */
  private spanFromFiles(peer: SwarmPeer, budget: number): number {
    const files = this.files!;
    const regions = REGIONS;
    let payload = 0;
    while (payload < SPAN_PAYLOAD && peer.uploads.peek(ITEM) && payload + ITEM[2]! <= budget) {
      const index = ITEM[0]!;
      const begin = ITEM[1]!;
      const length = ITEM[2]!;
      regionCount = 0;
      let sent: boolean;
      try {
        sent = files.blockRegions(index, begin, length, addRegion) && peer.conn.sendFileBlock(index, begin, length, regions, regionCount);
      } catch (error) {
        peer.conn.flushBlocks(); // the blocks queued before this one still go
        this.readFailed(error);
        return -1;
      } finally {
        // Once in the pipe the pages are held there: the files may close.
        for (let i = 0; i < regionCount; i++) if (regions[i]!.fd >= 0) files.releaseFile(regions[i]!.file);
      }
      if (!sent) break;
      peer.uploads.shift(ITEM);
      payload += length;
    }
    peer.conn.flushBlocks(); // the span leaves in one splice
    this.uploadedByFile += payload;
    return payload;
  }

  /** Stops the upload-limit timer (the torrent is ending). */
  stop(): void {
    clearTimeout(this.budgetTimer);
    this.budgetTimer = undefined;
    this.waiting.clear();
  }

  /** Serves `peer` (and whoever else waits) once the upload limit allows the next span. */
  private waitForBudget(peer?: SwarmPeer): void {
    if (peer) this.waiting.add(peer);
    const limit = this.limited();
    if (this.budgetTimer || !limit) return;
    this.budgetTimer = setTimeout(
      () => {
        this.budgetTimer = undefined;
        this.wake();
      },
      Math.max(1, limit.msUntil(this.minSpan(limit))),
    );
    this.budgetTimer.unref?.();
  }

  /** Serves `peer` once the current turn is over, when all requests that arrived in it are queued. */
  private serveSoon(peer: SwarmPeer): void {
    this.waiting.add(peer);
    if (this.wakeScheduled) return;
    this.wakeSoon();
  }

  private release(slot: PoolSlot): void {
    this.pool!.release(slot);
    if (this.waiting.size === 0 || this.wakeScheduled) return;
    // Not from inside a write callback: serve the waiting peers on the next turn.
    this.wakeSoon();
  }
}
