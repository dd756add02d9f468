// The receive side of one peer connection: turns a stream of socket chunks into the handshake and then
// wire messages, without a socket. Bytes are copied once at most: a message split across chunks keeps
// only its own bytes (copied from the chunk's tail), and the block of a split `piece` message goes
// straight into the slot a `BlockSink` names, part by part as chunks arrive.
// A `piece` message longer than a block (the answer to a long request, OUR_MAX_REQUEST) is delivered as the
// 16 KiB blocks it carries, each as if it had come in a message of its own: everything past the reader
// deals in blocks only.
import { decodeHandshake, decodeMessage, writePieceHeader } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE, MessageId, type Handshake, type WireMessage } from "../../shared/wire/types.ts";
import type { WireLimits } from "../../shared/wire/frame.ts";
import type { BlockSink } from "../pieces/piece-assembly.ts";
import { MAX_UNKNOWN_PIECES } from "./early-pieces.ts";
import { OUR_MAX_REQUEST } from "./extension-handshake.ts";

/** Where decoded input goes; given once at construction so no closure is made per chunk or message. */
export interface ReaderEvents {
  handshake(handshake: Handshake): void;
  /** Views inside `message` are valid only during the call. */
  message(message: WireMessage): void;
  /**
   * A `piece` message's 13-byte header is here but its block continues in later chunks: where to copy
   * the block as it comes, or null to buffer the message whole. Absent: always buffer.
   */
  blockSink?(index: number, begin: number, length: number): BlockSink | null;
  /** A streamed block whose sink stopped wanting it (another peer's copy won) was read to its end. */
  droppedBlock(length: number): void;
}

const PIECE_HEADER = 13;

const readU32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export class MessageReader {
  /** True until the handshake has been decoded; messages follow it. */
  private expectHandshake = true;
  /** Set by `stop`: nothing more is decoded or delivered. */
  private stopped = false;
  /** At most one partially received message: only its bytes are kept (copied from the chunk's tail). */
  private remainder: Uint8Array;
  private remainderLength = 0;
  /** A split block being copied straight into its slot: where, which block, and how far. */
  private stream: BlockSink | null = null;
  private streamIndex = 0;
  private streamBegin = 0;
  private streamLength = 0;
  private streamFilled = 0;
  /** False once the sink refused a part (another peer's copy won): the rest is read and dropped. */
  private streamWanted = true;
  /** A long piece message under way: its piece, the next block's offset, and the bytes not yet handed out as blocks. */
  private longIndex = 0;
  private longBegin = 0;
  private longLeft = 0;
  /** Set by `bind`: messages after the handshake are bounded by the torrent's piece count. */
  private limits: Required<WireLimits> | null = null;

  /**
   * `pieceCount`: the torrent's, when known from the start (null: the torrent is, but not its piece count);
   * undefined for a connection that learns its torrent from the peer's handshake (`bind` then, from the
   * handshake event, before any message is decoded).
   */
  constructor(
    pieceCount: number | null | undefined,
    private readonly events: ReaderEvents,
  ) {
    this.remainder = new Uint8Array(PIECE_HEADER + BLOCK_SIZE + 5 + Math.ceil((pieceCount ?? 0) / 8));
    if (pieceCount !== undefined) this.bind(pieceCount);
  }

  /**
   * The torrent is known: its piece count bounds `have`, `bitfield` and `piece` messages. null: the torrent
   * is known but not its piece count yet (a magnet link before its metadata): the largest count any
   * torrent we accept can have bounds them until the connection is bound again with the real one.
   */
  bind(pieceCount: number | null): void {
    // Extension messages we care about are small; a peer cannot make us buffer more than 64 KiB for one.
    // Requests (and their answers) up to the length we advertise; each block in a piece message is checked downstream.
    this.limits = { pieceCount: pieceCount ?? MAX_UNKNOWN_PIECES, pieceCountKnown: pieceCount !== null, maxBlock: OUR_MAX_REQUEST, maxOther: 1 << 16 };
  }

  private get pieceCount(): number {
    return this.boundLimits().pieceCount;
  }

  private boundLimits() {
    // A bug, not a peer's fault: the handshake handler must bind the torrent before messages follow.
    if (!this.limits) throw new Error("MessageReader: a message arrived before the torrent was bound");
    return this.limits;
  }

  /** Decodes what `chunk` completes and delivers it; throws the codec's `WireError` on a protocol error. */
  feed(chunk: Uint8Array): void {
    if (this.stopped) return;
    let offset = 0;
    if (this.stream) offset = this.feedStream(chunk, 0);
    if (this.remainderLength > 0 && offset < chunk.length) {
      offset = this.completeRemainder(chunk, offset);
      if (offset < 0) return; // the chunk went entirely into the pending message
    }
    while (offset < chunk.length && !this.stopped) {
      if (this.stream) {
        offset = this.feedStream(chunk, offset);
        continue;
      }
      if (this.longLeft > 0) {
        offset = this.feedLong(chunk, offset);
        continue;
      }
      const decoded = this.decode(chunk, offset);
      if ("need" in decoded) {
        if (chunk.length - offset >= PIECE_HEADER && this.openStream(chunk, offset)) {
          offset += PIECE_HEADER; // the loop goes on with the stream (or the long message's blocks) it opened
          continue;
        }
        this.keepRemainder(chunk.subarray(offset));
        return;
      }
      offset += decoded.size;
      this.deliver(decoded.value);
    }
  }

  /** The connection closed: decode nothing more, and end a block stream left half-way (its slot part is released). */
  stop(): void {
    this.stopped = true;
    this.longLeft = 0;
    if (this.stream) {
      this.stream.endStream(this.streamBegin, this.streamLength);
      this.stream = null;
    }
  }

  /** Tops up the pending message with just the bytes it still needs; returns the chunk offset after it. */
  private completeRemainder(chunk: Uint8Array, offset: number): number {
    for (;;) {
      const decoded = this.decode(this.remainder.subarray(0, this.remainderLength), 0);
      if (!("need" in decoded)) {
        this.remainderLength = 0;
        this.deliver(decoded.value);
        return offset;
      }
      // The whole chunk is in, and the decode above checked what there is of the message (a wrong
      // handshake byte, a bad length for its id): the codec refuses those as soon as they arrive.
      if (offset === chunk.length) return -1;
      // Gather a message's header first: if it turns out to be a piece, its block can be streamed.
      const headerLeft = this.expectHandshake ? 0 : (this.remainderLength < 5 ? 5 : PIECE_HEADER) - this.remainderLength;
      const isPiece = this.remainderLength < 5 || this.remainder[4] === MessageId.Piece;
      const want = headerLeft > 0 && isPiece ? Math.min(headerLeft, decoded.need) : decoded.need;
      const take = Math.min(want, chunk.length - offset);
      this.ensureRemainder(this.remainderLength + take);
      this.remainder.set(chunk.subarray(offset, offset + take), this.remainderLength);
      this.remainderLength += take;
      offset += take;
      if (this.remainderLength === PIECE_HEADER && !this.expectHandshake && this.openStream(this.remainder, 0)) {
        this.remainderLength = 0;
        return offset; // feed's loop goes on with the stream (or the long message's blocks) it opened
      }
    }
  }

  /**
   * For a `piece` whose header is at `at` in `bytes` and whose block is not all there: true when a sink takes
   * it, or when it is longer than a block (its blocks then come one by one, feedLong).
   */
  private openStream(bytes: Uint8Array, at: number): boolean {
    if (this.expectHandshake || !this.events.blockSink || bytes[at + 4] !== MessageId.Piece) return false;
    const length = readU32(bytes, at) - 9;
    const index = readU32(bytes, at + 5);
    const begin = readU32(bytes, at + 9);
    // Anything odd goes the buffered way, where the codec reports it.
    if (index >= this.pieceCount || length < 1 || length > this.boundLimits().maxBlock) return false;
    if (length > BLOCK_SIZE) {
      this.longIndex = index;
      this.longBegin = begin;
      this.longLeft = length;
      return true;
    }
    return this.openSink(index, begin, length);
  }

  /** Streams the block into the slot its sink names; false when there is none (the block is buffered). */
  private openSink(index: number, begin: number, length: number): boolean {
    const sink = this.events.blockSink!(index, begin, length);
    if (!sink) return false;
    this.stream = sink;
    this.streamIndex = index;
    this.streamBegin = begin;
    this.streamLength = length;
    this.streamFilled = 0;
    this.streamWanted = true;
    return true;
  }

  /** Copies the next part of the streamed block from `chunk`; returns the chunk offset after it. */
  private feedStream(chunk: Uint8Array, offset: number): number {
    const sink = this.stream!;
    const take = Math.min(this.streamLength - this.streamFilled, chunk.length - offset);
    if (this.streamWanted && take > 0) this.streamWanted = sink.writeBlockPart(this.streamBegin, this.streamFilled, chunk.subarray(offset, offset + take));
    this.streamFilled += take;
    if (this.streamFilled === this.streamLength) {
      this.stream = null;
      const block = sink.endStream(this.streamBegin, this.streamLength);
      if (this.streamWanted) this.events.message({ type: "piece", index: this.streamIndex, begin: this.streamBegin, block });
      else this.events.droppedBlock(this.streamLength);
    }
    return offset + take;
  }

  /**
   * The next block of a long piece message, from `offset`: delivered from the chunk when it is all there,
   * else streamed into its slot, else buffered behind a header of its own as a message of one block.
   */
  private feedLong(chunk: Uint8Array, offset: number): number {
    const index = this.longIndex;
    const begin = this.longBegin;
    const length = Math.min(BLOCK_SIZE, this.longLeft);
    this.longBegin += length;
    this.longLeft -= length;
    if (chunk.length - offset >= length) {
      this.events.message({ type: "piece", index, begin, block: chunk.subarray(offset, offset + length) });
      return offset + length;
    }
    if (this.events.blockSink && this.openSink(index, begin, length)) return this.feedStream(chunk, offset);
    const tail = chunk.subarray(offset);
    this.ensureRemainder(PIECE_HEADER + length);
    writePieceHeader(this.remainder, 0, index, begin, length);
    this.remainder.set(tail, PIECE_HEADER);
    this.remainderLength = PIECE_HEADER + tail.length;
    return chunk.length;
  }

  private keepRemainder(tail: Uint8Array): void {
    this.ensureRemainder(tail.length);
    this.remainder.set(tail, 0);
    this.remainderLength = tail.length;
  }

  private ensureRemainder(size: number): void {
    if (size <= this.remainder.length) return;
    const grown = new Uint8Array(Math.max(size, this.remainder.length * 2));
    grown.set(this.remainder.subarray(0, this.remainderLength));
    this.remainder = grown;
  }

  private decode(bytes: Uint8Array, offset: number) {
    if (this.expectHandshake) return decodeHandshake(bytes, offset);
    return decodeMessage(bytes, offset, this.boundLimits());
  }

  private deliver(value: Handshake | WireMessage): void {
    if (this.expectHandshake) {
      this.expectHandshake = false;
      return this.events.handshake(value as Handshake);
    }
    const message = value as WireMessage;
    if (message.type === "piece" && message.block.length > BLOCK_SIZE) return this.deliverBlocks(message.index, message.begin, message.block);
    this.events.message(message);
  }

  /** A long piece message, all here: its blocks one by one. */
  private deliverBlocks(index: number, begin: number, bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length && !this.stopped; at += BLOCK_SIZE) {
      this.events.message({ type: "piece", index, begin: begin + at, block: bytes.subarray(at, Math.min(bytes.length, at + BLOCK_SIZE)) });
    }
  }
}
