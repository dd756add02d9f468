// One piece being downloaded into one pool slot. Each block is copied once, from the socket's chunk into
// the slot. Unless the piece is checked elsewhere (a download hashes on the client's threads, HashPool), SHA-1
// is fed every run of blocks as soon as it becomes contiguous from the piece's start (out-of-order blocks
// wait for the gap to fill), so a complete piece is verified without re-reading it.
// A block whose message is split across socket chunks is streamed in part by part (openStream /
// writeBlockPart / endStream): still one copy per byte, with no staging buffer in between.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { PoolSlot } from "./pool.ts";
import { copyIntoSlot } from "./slot-copy.ts";

interface SlotState {
  /** Reused piece after piece: Bun's digest() resets a hasher, so one per slot is enough. */
  hasher: Bun.CryptoHasher;
  /** True while the hasher holds a piece that was never digested (abandoned): reset before reuse. */
  dirty: boolean;
  received: Uint8Array;
  /** 1 while a connection streams a split block straight into the slot (one streamer per block). */
  streaming: Uint8Array;
}

// Per-slot state, so steady state allocates no hasher or block map per piece.
const slotStates = new WeakMap<PoolSlot, SlotState>();
// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digestScratch = new Uint8Array(64);

function stateFor(slot: PoolSlot, blockCount: number): SlotState {
  let s = slotStates.get(slot);
  if (!s || s.received.length < blockCount) {
    const blocks = Math.ceil(slot.bytes.length / BLOCK_SIZE);
    s = { hasher: new Bun.CryptoHasher("sha1"), dirty: false, received: new Uint8Array(blocks), streaming: new Uint8Array(blocks) };
    slotStates.set(slot, s);
  }
  if (s.dirty) s.hasher.digest(digestScratch);
  s.dirty = false;
  s.received.fill(0, 0, blockCount);
  s.streaming.fill(0, 0, blockCount);
  return s;
}

/** Where a connection copies a block that arrives split across socket chunks (see PieceAssembly). */
export interface BlockSink {
  /** Copies `bytes` into the block at `begin`, `at` bytes in; false once the block no longer wants them. */
  writeBlockPart(begin: number, at: number, bytes: Uint8Array): boolean;
  /** The stream of the block at `begin` is over: its bytes in the slot, to hand to addBlock. */
  endStream(begin: number, length: number): Uint8Array;
}

export class PieceAssembly implements BlockSink {
  readonly slot: PoolSlot;
  readonly index: number;
  readonly length: number;
  readonly blockCount: number;
  /** View of the slot's first `length` bytes. */
  readonly data: Uint8Array;
  readonly #state: SlotState;
  #receivedBlocks = 0;
  /** Blocks [0, hashedBlocks) have been fed to SHA-1. */
  #hashedBlocks = 0;
  #verdict: boolean | undefined;
  /** Set when the slot went back to the pool: the slot's bytes belong to someone else now. */
  #retired = false;

  /** False when the complete piece is checked elsewhere (PieceHasher): `verify` is then unavailable. */
  readonly #hashOnArrival: boolean;

  constructor(slot: PoolSlot, index: number, length: number, options: { hashOnArrival?: boolean } = {}) {
    if (!Number.isSafeInteger(length) || length < 1 || length > slot.bytes.length) {
      throw new RangeError(`piece ${index} of ${length} bytes does not fit a ${slot.bytes.length}-byte slot`);
    }
    this.slot = slot;
    this.index = index;
    this.length = length;
    this.blockCount = Math.ceil(length / BLOCK_SIZE);
    this.data = slot.bytes.subarray(0, length);
    this.#state = stateFor(slot, this.blockCount);
    this.#hashOnArrival = options.hashOnArrival ?? true;
  }

  get complete(): boolean {
    return this.#receivedBlocks === this.blockCount;
  }

  get receivedBlocks(): number {
    return this.#receivedBlocks;
  }

  hasBlock(blockIndex: number): boolean {
    return blockIndex >= 0 && blockIndex < this.blockCount && this.#state.received[blockIndex] === 1;
  }

  /** Byte length of block `blockIndex` (the piece's last block may be short). */
  blockLength(blockIndex: number): number {
    return Math.min(BLOCK_SIZE, this.length - blockIndex * BLOCK_SIZE);
  }

  /**
   * Copies `data` into the slot (the ONE copy of a received byte) and feeds SHA-1 with what became
   * contiguous. Returns false, copying nothing, for a duplicate, misaligned, wrong-sized or out-of-range block.
   */
  addBlock(begin: number, data: Uint8Array): boolean {
    if (this.#retired || begin % BLOCK_SIZE !== 0 || begin < 0 || begin >= this.length) return false;
    const blockIndex = begin / BLOCK_SIZE;
    const received = this.#state.received;
    if (received[blockIndex] === 1 || data.length !== this.blockLength(blockIndex)) return false;
    // A streamed block (endStream) is already in place: nothing to copy.
    if (!this.#inPlace(begin, data)) this.#copy(data, begin);
    received[blockIndex] = 1;
    this.#receivedBlocks++;
    if (this.#hashOnArrival && blockIndex === this.#hashedBlocks) this.#hashContiguous();
    return true;
  }

  /**
   * Reserves the block at `begin` for one connection to stream into part by part. False (use addBlock
   * instead) for a block that is received, already streamed by another connection, or not a valid block.
   */
  openStream(begin: number, length: number): boolean {
    if (this.#retired || begin % BLOCK_SIZE !== 0 || begin < 0 || begin >= this.length) return false;
    const blockIndex = begin / BLOCK_SIZE;
    const s = this.#state;
    if (s.received[blockIndex] === 1 || s.streaming[blockIndex] === 1 || length !== this.blockLength(blockIndex)) return false;
    s.streaming[blockIndex] = 1;
    return true;
  }

  writeBlockPart(begin: number, at: number, bytes: Uint8Array): boolean {
    const blockIndex = begin / BLOCK_SIZE;
    // Another peer's copy of the block won (end game), or the piece is gone: keep our hands off the slot.
    if (this.#retired || this.#state.received[blockIndex] === 1) return false;
    if (at < 0 || at + bytes.length > this.blockLength(blockIndex)) return false;
    this.#copy(bytes, begin + at);
    return true;
  }

  endStream(begin: number, length: number): Uint8Array {
    if (!this.#retired) this.#state.streaming[begin / BLOCK_SIZE] = 0;
    return this.slot.bytes.subarray(begin, begin + length);
  }

  /** The slot goes back to the pool: refuse every later write (a stream may still be under way). */
  retire(): void {
    this.#retired = true;
  }

  /** Into the slot: with streaming stores when another thread hashes the piece later, cached when we hash it now. */
  #copy(bytes: Uint8Array, at: number): void {
    if (this.#hashOnArrival) this.slot.bytes.set(bytes, at);
    else copyIntoSlot(this.slot.bytes, bytes, at);
  }

  #inPlace(begin: number, data: Uint8Array): boolean {
    const slot = this.slot.bytes;
    // The offset first: reading `buffer` is a call into the runtime, made only for a likely match.
    return data.byteOffset === slot.byteOffset + begin && data.buffer === slot.buffer;
  }

  /** Only when complete: true when the piece's SHA-1 equals `expected` (20 bytes). */
  verify(expected: Uint8Array): boolean {
    if (this.#verdict !== undefined) return this.#verdict;
    if (!this.#hashOnArrival) throw new Error(`piece ${this.index} is checked by its PieceHasher, not here`);
    if (!this.complete) throw new Error(`piece ${this.index} is not complete: ${this.#receivedBlocks}/${this.blockCount} blocks`);
    this.#state.hasher.digest(digestScratch);
    this.#state.dirty = false;
    let same = expected.length === 20;
    for (let i = 0; same && i < 20; i++) same = digestScratch[i] === expected[i];
    this.#verdict = same;
    return same;
  }

  #hashContiguous(): void {
    const received = this.#state.received;
    const from = this.#hashedBlocks;
    let to = from;
    while (to < this.blockCount && received[to] === 1) to++;
    this.#hashedBlocks = to;
    const end = Math.min(this.length, to * BLOCK_SIZE);
    this.#state.hasher.update(this.slot.bytes.subarray(from * BLOCK_SIZE, end));
    this.#state.dirty = true;
  }
}
