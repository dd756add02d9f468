// One peer wire connection (BEP 3) over a Bun socket: handshake, framing through the shared codec,
// ordered writes with backpressure, and the wire-level state (choke/interest flags, the peer's pieces).
// Chunks go to its MessageReader, which decodes them and streams split blocks into their slots.
// It never parses bytes itself and knows nothing of pieces on disk: the session reacts to its events.
import { Bitfield } from "../../shared/bitfield.ts";
import { bytesEqual } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import { encodeHandshake, encodeMessage, encodeMessageInto, WireError } from "../../shared/wire/codec.ts";
import { type Handshake, type WireMessage } from "../../shared/wire/types.ts";
import type { BlockSink } from "../piece-assembly.ts";
import { decodeExtensionHandshake, EXTENSION_BIT, EXTENSION_HANDSHAKE_ID, supportsExtensions, type ExtensionHandshake } from "../../shared/wire/extension.ts";
import { ourExtensionHandshake } from "./extension-handshake.ts";
import { noteChunkReceived } from "./chunk-garbage.ts";
import { readAvailable } from "./direct-read.ts";
import { MessageReader } from "./message-reader.ts";
import { RateMeter } from "./rate-meter.ts";
import { WriteQueue, type WritableSocket } from "./write-queue.ts";

export interface ConnectionSocket extends WritableSocket {
  end(): void;
  /** The socket's file descriptor, when there is one: what the kernel holds beyond Bun's chunk is read directly. */
  readonly fd?: number;
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
  /**
   * Extensions we receive (name → our extended id) and the info dictionary's size, for our extension
   * handshake. They must all be in that first handshake: libtorrent drops, for the whole connection, every
   * extension a peer's first handshake leaves out. Default: those of extension-handshake.ts.
   */
  extensions?: { m: ReadonlyMap<string, number>; metadataSize?: number };
}

const REQUEST_FRAME = 17;
const BATCH_FRAMES = 64;
let nextConnectionId = 1;

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
  /** The peer's extension handshake (BEP 10), once it sent one; a later one replaces it. */
  peerExtensions: ExtensionHandshake | null = null;

  /** Piece payload bytes received from / sent to this peer. */
  readonly down = new RateMeter();
  readonly up = new RateMeter();
  readonly connectedAt = Date.now();
  lastReceivedAt = Date.now();
  lastSentAt = Date.now();
  /** Last time a requested block arrived (stall detection). */
  lastBlockAt = Date.now();

  private readonly writes: WriteQueue;
  private readonly reader: MessageReader;
  private readonly batch = new Uint8Array(REQUEST_FRAME * BATCH_FRAMES);
  private batchLength = 0;
  /** True while a received chunk is being dispatched: request batches wait for its end. */
  private receiving = false;

  constructor(
    private readonly socket: ConnectionSocket,
    private readonly options: ConnectionOptions,
    private readonly handler: ConnectionHandler,
  ) {
    this.address = options.address;
    this.outgoing = options.outgoing;
    this.peerPieces = new Bitfield(options.pieceCount);
    const blockSink = handler.blockSink?.bind(handler);
    // One events object per connection: the reader calls back through it, no closure per chunk or message.
    this.reader = new MessageReader(options.pieceCount, {
      handshake: (handshake) => this.onHandshake(handshake),
      message: (message) => this.dispatch(message),
      blockSink: blockSink && ((index, begin, length) => blockSink(this, index, begin, length)),
      droppedBlock: (length) => this.down.add(length),
    });
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

  /** A chunk Bun read for us; then whatever else the kernel already holds is read straight into a reused buffer. */
  receive(chunk: Uint8Array): void {
    if (this.state === "closed") return;
    noteChunkReceived(chunk.length); // only Bun's own chunks are garbage to collect
    this.receiving = true;
    try {
      if (this.feed(chunk) && this.socket.fd !== undefined) readAvailable(this.socket.fd, this.feedDirect);
    } finally {
      this.receiving = false;
      // Requests made while handling this chunk's blocks go out together: one write, not one per block.
      this.sendRequestBatch();
    }
  }

  private readonly feedDirect = (bytes: Uint8Array): boolean => {
    const open = this.feed(bytes);
    // Requests made for these blocks go out now, not after the whole read: the pipeline keeps moving.
    this.sendRequestBatch();
    return open;
  };

  /** Decodes `bytes` and delivers what they complete; false once the connection is closed. */
  private feed(bytes: Uint8Array): boolean {
    this.lastReceivedAt = Date.now();
    try {
      this.reader.feed(bytes);
    } catch (error) {
      if (error instanceof WireError) this.close(`protocol error: ${error.message}`);
      else throw error;
    }
    return this.state !== "closed";
  }

  private dispatch(message: WireMessage): void {
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
      case "extended":
        // A malformed handshake throws WireError: the connection closes as for any protocol violation.
        if (message.id === EXTENSION_HANDSHAKE_ID) this.peerExtensions = decodeExtensionHandshake(message.payload);
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
    if (supportsExtensions(handshake.reserved)) {
      this.sendRaw(encodeMessage({ type: "extended", id: EXTENSION_HANDSHAKE_ID, payload: ourExtensionHandshake(this.options.listenPort, this.options.extensions) }));
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
    this.reader.stop();
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
