// One peer wire connection (BEP 3) over a Bun socket: handshake, framing through the shared codec,
// ordered writes with backpressure, and the wire-level state (choke/interest flags, the peer's pieces).
// It never parses bytes itself and knows nothing of pieces on disk: the session reacts to its events.
import { Bitfield } from "../../shared/bitfield.ts";
import { bytesEqual } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import { decodeHandshake, decodeMessage, encodeHandshake, encodeMessage, encodeMessageInto, WireError } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE, MessageId, type Handshake, type WireMessage } from "../../shared/wire/types.ts";
import type { BlockSink } from "../piece-assembly.ts";
import { EXTENDED_MESSAGE_ID, EXTENSION_BIT, encodeExtensionHandshake, readPeerReqq } from "./extension-handshake.ts";
import { noteChunkReceived } from "./chunk-garbage.ts";
import { RateMeter } from "./rate-meter.ts";
import { WriteQueue, type WritableSocket } from "./write-queue.ts";

export interface ConnectionSocket extends WritableSocket {
  end(): void;
}

export interface ConnectionHandler {
  /** The peer's handshake arrived; return a reason to drop it, or null to go on. */
  onHandshake(conn: PeerConnection, handshake: Handshake): string | null;
  /** Every message after the handshake. Views inside `message` are valid only during the call. */
  onMessage(conn: PeerConnection, message: WireMessage): void;
  /**
   * A `piece` message's 13-byte header is here but its block continues in later chunks: where to copy
   * the block as it comes (straight into its pool slot), or null to buffer the message whole.
   */
  blockSink?(conn: PeerConnection, index: number, begin: number, length: number): BlockSink | null;
  onDrain(conn: PeerConnection): void;
  onClose(conn: PeerConnection, reason: string): void;
}

export interface ConnectionOptions {
  infoHash: Uint8Array;
  ourPeerId: Uint8Array;
  pieceCount: number;
  /** Our listening port, told to the peer in the extension handshake (0 = not listening). */
  listenPort: number;
  /** True when we dialled: we send our handshake first. */
  outgoing: boolean;
  address: PeerAddress;
  /** Our pieces, sent as a bitfield right after the handshake. */
  ourPieces: () => Bitfield;
}

const REQUEST_FRAME = 17;
const PIECE_HEADER = 13;
const BATCH_FRAMES = 64;
let nextConnectionId = 1;

const readU32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export class PeerConnection {
  readonly id = nextConnectionId++;
  readonly address: PeerAddress;
  readonly outgoing: boolean;
  state: "handshake" | "open" | "closed" = "handshake";
  remotePeerId: Uint8Array | null = null;
  closeReason = "";

  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  peerPieces: Bitfield;
  /** While a `bitfield` message is handled: the pieces it replaces (for availability counts). */
  replacedPieces: Bitfield | null = null;
  /** Requests the peer will queue (BEP 10 `reqq`), when it told us. */
  peerReqq: number | null = null;

  /** Piece payload bytes received from / sent to this peer. */
  readonly down = new RateMeter();
  readonly up = new RateMeter();
  readonly connectedAt = Date.now();
  lastReceivedAt = Date.now();
  lastSentAt = Date.now();
  /** Last time a requested block arrived (stall detection). */
  lastBlockAt = Date.now();

  private readonly writes: WriteQueue;
  /** At most one partially received message: only its bytes are kept (copied from the chunk's tail). */
  private remainder: Uint8Array;
  private remainderLength = 0;
  private readonly batch = new Uint8Array(REQUEST_FRAME * BATCH_FRAMES);
  private batchLength = 0;
  /** A split block being copied straight into its slot: where, which block, and how far. */
  private stream: BlockSink | null = null;
  private streamIndex = 0;
  private streamBegin = 0;
  private streamLength = 0;
  private streamFilled = 0;
  /** False once the sink refused a part (another peer's copy won): the rest is read and dropped. */
  private streamWanted = true;
  /** True while a received chunk is being dispatched: request batches wait for its end. */
  private receiving = false;
  private readonly limits: { pieceCount: number; maxBlock: number; maxOther: number };

  constructor(
    private readonly socket: ConnectionSocket,
    private readonly options: ConnectionOptions,
    private readonly handler: ConnectionHandler,
  ) {
    this.address = options.address;
    this.outgoing = options.outgoing;
    this.peerPieces = new Bitfield(options.pieceCount);
    // Extension messages we care about are small; a peer cannot make us buffer more than 64 KiB for one.
    this.limits = { pieceCount: options.pieceCount, maxBlock: BLOCK_SIZE, maxOther: 1 << 16 };
    this.remainder = new Uint8Array(13 + BLOCK_SIZE + 5 + Math.ceil(options.pieceCount / 8));
    this.writes = new WriteQueue(socket);
    if (this.outgoing) this.sendHandshake();
  }

  isClosed(): boolean {
    return this.state === "closed";
  }

  /** Bytes waiting for the kernel: uploads pause above a threshold. */
  get queuedBytes(): number {
    return this.writes.queuedBytes;
  }

  // ---- reading ---------------------------------------------------------------------------------------

  receive(chunk: Uint8Array): void {
    if (this.state === "closed") return;
    noteChunkReceived(chunk.length);
    this.lastReceivedAt = Date.now();
    this.receiving = true;
    try {
      let offset = 0;
      if (this.stream) offset = this.feedStream(chunk, 0);
      if (this.remainderLength > 0 && offset < chunk.length) {
        offset = this.completeRemainder(chunk, offset);
        if (offset < 0) return; // the chunk went entirely into the pending message
      }
      while (offset < chunk.length && !this.isClosed()) {
        if (this.stream) {
          offset = this.feedStream(chunk, offset);
          continue;
        }
        const decoded = this.decode(chunk, offset);
        if ("need" in decoded) {
          if (chunk.length - offset >= PIECE_HEADER && this.openStream(chunk, offset)) {
            offset = this.feedStream(chunk, offset + PIECE_HEADER);
            continue;
          }
          this.keepRemainder(chunk.subarray(offset));
          return;
        }
        offset += decoded.size;
        this.dispatch(decoded.value);
      }
    } catch (error) {
      if (error instanceof WireError) this.close(`protocol error: ${error.message}`);
      else throw error;
    } finally {
      this.receiving = false;
      // Requests made while handling this chunk's blocks go out together: one write, not one per block.
      this.sendRequestBatch();
    }
  }

  /** Tops up the pending message with just the bytes it still needs; returns the chunk offset after it. */
  private completeRemainder(chunk: Uint8Array, offset: number): number {
    for (;;) {
      const decoded = this.decode(this.remainder.subarray(0, this.remainderLength), 0);
      if (!("need" in decoded)) {
        this.remainderLength = 0;
        this.dispatch(decoded.value);
        return offset;
      }
      // Gather a message's header first: if it turns out to be a piece, its block can be streamed.
      const headerLeft = this.state === "open" ? (this.remainderLength < 5 ? 5 : PIECE_HEADER) - this.remainderLength : 0;
      const isPiece = this.remainderLength < 5 || this.remainder[4] === MessageId.Piece;
      const want = headerLeft > 0 && isPiece ? Math.min(headerLeft, decoded.need) : decoded.need;
      const take = Math.min(want, chunk.length - offset);
      this.ensureRemainder(this.remainderLength + take);
      this.remainder.set(chunk.subarray(offset, offset + take), this.remainderLength);
      this.remainderLength += take;
      offset += take;
      if (this.remainderLength === PIECE_HEADER && this.state === "open" && this.openStream(this.remainder, 0)) {
        this.remainderLength = 0;
        return this.feedStream(chunk, offset);
      }
      if (offset === chunk.length && take < decoded.need) return -1;
    }
  }

  /** For a `piece` whose header is at `at` in `bytes` and whose block is not all there: true when a sink takes it. */
  private openStream(bytes: Uint8Array, at: number): boolean {
    if (this.state !== "open" || !this.handler.blockSink || bytes[at + 4] !== MessageId.Piece) return false;
    const length = readU32(bytes, at) - 9;
    const index = readU32(bytes, at + 5);
    const begin = readU32(bytes, at + 9);
    // Anything odd goes the buffered way, where the codec reports it.
    if (index >= this.options.pieceCount || length < 1 || length > BLOCK_SIZE) return false;
    const sink = this.handler.blockSink(this, index, begin, length);
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
      if (this.streamWanted) this.dispatch({ type: "piece", index: this.streamIndex, begin: this.streamBegin, block });
      else this.down.add(this.streamLength);
    }
    return offset + take;
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
    if (this.state === "handshake") return decodeHandshake(bytes, offset);
    return decodeMessage(bytes, offset, this.limits);
  }

  private dispatch(value: Handshake | WireMessage): void {
    if (this.state === "handshake") return this.onHandshake(value as Handshake);
    const message = value as WireMessage;
    switch (message.type) {
      case "choke":
        this.peerChoking = true;
        break;
      case "unchoke":
        this.peerChoking = false;
        break;
      case "interested":
        this.peerInterested = true;
        break;
      case "not-interested":
        this.peerInterested = false;
        break;
      case "have":
        if (message.index >= this.options.pieceCount) return this.close(`have for piece ${message.index} past the end`);
        this.peerPieces.set(message.index);
        break;
      case "bitfield":
        // BEP 3 wants it first, but aria2 sends one late instead of `have`s: take it as a full replacement.
        this.replacedPieces = this.peerPieces;
        this.peerPieces = Bitfield.fromWire(message.bits, this.options.pieceCount);
        break;
      case "piece":
        this.down.add(message.block.length);
        break;
      case "unknown":
        if (message.id === EXTENDED_MESSAGE_ID) this.peerReqq = readPeerReqq(message.payload) ?? this.peerReqq;
        break;
    }
    this.handler.onMessage(this, message);
    this.replacedPieces = null;
  }

  private onHandshake(handshake: Handshake): void {
    if (!bytesEqual(handshake.infoHash, this.options.infoHash)) return this.close("wrong info hash");
    if (bytesEqual(handshake.peerId, this.options.ourPeerId)) return this.close("connected to ourselves");
    this.remotePeerId = handshake.peerId.slice();
    const refusal = this.handler.onHandshake(this, handshake);
    if (refusal) return this.close(refusal);
    this.state = "open";
    if (!this.outgoing) this.sendHandshake();
    // BEP 3: the bitfield must be the first message; the extension handshake follows it.
    const ours = this.options.ourPieces();
    if (ours.count() > 0) this.sendRaw(encodeMessage({ type: "bitfield", bits: ours.bytes }));
    const reserved = handshake.reserved;
    if ((reserved[EXTENSION_BIT.byte]! & EXTENSION_BIT.mask) !== 0) {
      this.sendRaw(encodeMessage({ type: "unknown", id: EXTENDED_MESSAGE_ID, payload: encodeExtensionHandshake(this.options.listenPort) }));
    }
  }

  // ---- writing ---------------------------------------------------------------------------------------

  private sendHandshake(): void {
    const reserved = new Uint8Array(8);
    reserved[EXTENSION_BIT.byte] = EXTENSION_BIT.mask;
    this.sendRaw(encodeHandshake({ reserved, infoHash: this.options.infoHash, peerId: this.options.ourPeerId }));
  }

  private sendRaw(bytes: Uint8Array, done?: () => void): void {
    if (this.state === "closed") {
      done?.();
      return;
    }
    this.lastSentAt = Date.now();
    this.writes.send(bytes, done);
  }

  send(message: WireMessage): void {
    this.sendRequestBatch();
    switch (message.type) {
      case "choke":
        this.amChoking = true;
        break;
      case "unchoke":
        this.amChoking = false;
        break;
      case "interested":
        this.amInterested = true;
        break;
      case "not-interested":
        this.amInterested = false;
        break;
    }
    this.sendRaw(encodeMessage(message));
  }

  /** Queues a request into a batch that goes out in one write on `flushRequests` (or when full). */
  request(index: number, begin: number, length: number): void {
    if (this.batchLength + REQUEST_FRAME > this.batch.length) this.sendRequestBatch();
    this.batchLength += encodeMessageInto({ type: "request", index, begin, length }, this.batch, this.batchLength);
  }

  /** Sends the queued requests now, or, while a received chunk is handled, at the end of it. */
  flushRequests(): void {
    if (!this.receiving) this.sendRequestBatch();
  }

  private sendRequestBatch(): void {
    if (this.batchLength === 0) return;
    const frames = this.batch.subarray(0, this.batchLength);
    this.batchLength = 0;
    this.sendRaw(frames); // borrowed: an unsent tail is copied by the queue
  }

  /** Whole piece messages (13-byte header + block each) already framed in `frame`, carrying `blockLength`
   *  payload bytes in all; `done` runs once the kernel took the last byte. */
  sendFramedBlock(frame: Uint8Array, blockLength: number, done: () => void): void {
    this.sendRequestBatch();
    this.up.add(blockLength);
    this.sendRaw(frame, done);
  }

  drained(): void {
    this.writes.flush();
    if (this.state !== "closed") this.handler.onDrain(this);
  }

  // ---- closing ---------------------------------------------------------------------------------------

  close(reason: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason = reason;
    if (process.env.BTPEER_DEBUG) console.error(`peer ${this.address.ip}:${this.address.port} closed: ${reason}`);
    this.writes.close();
    if (this.stream) {
      this.stream.endStream(this.streamBegin, this.streamLength);
      this.stream = null;
    }
    try {
      this.socket.end();
    } catch {
      // already gone
    }
    this.handler.onClose(this, reason);
  }

  /** The socket went away underneath us. */
  closed(reason: string): void {
    this.close(reason);
  }
}
