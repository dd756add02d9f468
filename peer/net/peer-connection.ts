// One peer wire connection (BEP 3) over a Bun socket: the handshake phase and the torrent it binds the
// connection to (connection-handshake.ts, connection-binding.ts), framing through the shared codec,
// ordered writes with backpressure, and the wire-level state it extends (peer-wire-state.ts: choke and
// interest flags, the peer's pieces). Chunks go to its MessageReader, which decodes them and streams split
// blocks into their slots. It never parses bytes itself and knows nothing of pieces on disk: its torrent
// reacts to its events.
import type { PeerAddress } from "../../shared/compact.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import { encodeMessage, isFastMessage, supportsFast, WireError, writePieceHeader } from "../../shared/wire/codec.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import { supportsExtensions } from "../../shared/wire/extension.ts";
import { describeClose, type CloseReason } from "./close-reason.ts";
import { bind, type Binding, bindingFor, boundTorrent, rebind } from "./connection-binding.ts";
import { extensionHandshakeMessage, handshakeRefusal, openingMessages, ourHandshake, selfEcho } from "./connection-handshake.ts";
import type { ConnectionEncryption, ConnectionHandler, ConnectionOptions, ConnectionSocket, TorrentAdoption } from "./connection-types.ts";
import { noteChunkReceived } from "./chunk-garbage.ts";
import { readAvailable } from "./direct-read.ts";
import { MessageReader } from "./message-reader.ts";
import { PeerWireState } from "./peer-wire-state.ts";
import { RateMeter } from "./rate-meter.ts";
import { RequestBatch } from "./request-batch.ts";
import { type FileRegion, WriteQueue } from "./write-queue.ts";

export type { ConnectionEncryption, ConnectionHandler, ConnectionOptions, ConnectionSocket, TorrentAdoption, TorrentBinding } from "./connection-types.ts";

/** The 13-byte header of a piece message sent from files: borrowed by the queue (copied only if it waits). */
const pieceHeader = new Uint8Array(13);
let nextConnectionId = 1;

export class PeerConnection extends PeerWireState {
  readonly id = nextConnectionId++;
  readonly address: PeerAddress;
  readonly outgoing: boolean;
  /** Whether it came through an MSE/PE handshake, and with which payload (the daemon's 'E' flag). */
  readonly encryption: ConnectionEncryption;
  state: "handshake" | "open" | "closed" = "handshake";
  remotePeerId: Uint8Array | null = null;
  /** Why it closed, once closed; `closeReason` is its text. */
  closedFor: CloseReason | null = null;
  closeReason = "";

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
  private readonly requests = new RequestBatch();
  /** True while a received chunk is being dispatched: request batches wait for its end. */
  private receiving = false;
  /** Work a message asked to run once the chunk being dispatched is all handled (see `afterChunk`). */
  private chunkEnd: (() => void) | null = null;
  /** The torrent served: from birth, or from the peer's handshake (unbound until then). */
  private binding: Binding;

  constructor(
    private readonly socket: ConnectionSocket,
    private readonly options: ConnectionOptions,
    private handler: ConnectionHandler,
  ) {
    super(options.torrent?.pieceCount ?? 0);
    this.address = options.address;
    this.outgoing = options.outgoing;
    this.encryption = options.encryption ?? "none";
    this.binding = bindingFor(options.torrent);
    // We speak first on a dial, so a dial must know what it is for.
    if (this.outgoing && !options.torrent) throw new Error("PeerConnection: an outgoing connection needs its torrent");
    // One events object per connection: the reader calls back through it, no closure per chunk or message.
    this.reader = new MessageReader(options.torrent ? options.torrent.pieceCount : undefined, {
      handshake: (handshake) => this.onHandshake(handshake),
      message: (message) => this.dispatch(message),
      blockSink: (index, begin, length) => this.handler.blockSink?.(this, index, begin, length) ?? null,
      droppedBlock: (length) => this.down.add(length),
    });
    this.writes = new WriteQueue(
      socket,
      (error) => this.close({ code: "local", detail: String(error) }),
      // A plain socket is written to directly; under MSE only while MseSocket says so (plaintext payload).
      () => (this.encryption === "none" ? socket.fd : socket.writeFd),
    );
    if (options.outgoing && options.torrent) this.sendRaw(ourHandshake(options.torrent, options.ourPeerId));
  }

  /** The torrent's info hash, once known. */
  get infoHash(): Uint8Array | null {
    return boundTorrent(this.binding)?.infoHash ?? null;
  }

  isClosed(): boolean {
    return this.state === "closed";
  }

  /** Bytes waiting for the kernel: uploads pause above a threshold. */
  get queuedBytes(): number {
    return this.writes.queuedBytes;
  }

  // ---- reading ---------------------------------------------------------------------------------------

  /** `receive` keeps nothing of a chunk: messages are copied out or handled during the call (see ReaderEvents). */
  readonly chunksLetGo = true;

  /** A chunk Bun read for us; then whatever else the kernel already holds is read straight into a reused buffer. */
  receive(chunk: Uint8Array): void {
    if (this.state === "closed") return;
    noteChunkReceived(chunk.length); // only Bun's own chunks leave wrappers to collect
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
      if (error instanceof WireError) this.close({ code: "protocol", detail: error.message });
      else throw error;
    }
    const task = this.chunkEnd;
    this.chunkEnd = null;
    if (task && this.state !== "closed") task();
    return this.state !== "closed";
  }

  /**
   * Runs `task` once the messages of the chunk being received are all handled (before its requests go
   * out), or now when no chunk is: a read of 16 KiB blocks tops the request pipeline up once, not once
   * per block. One task at a time: the connection's one downloader asks for the same each time.
   */
  afterChunk(task: () => void): void {
    if (this.receiving) this.chunkEnd = task;
    else task();
  }

  private dispatch(message: WireMessage): void {
    const broken = this.received(message, this.binding.kind === "count-unknown" ? this.binding.early : null);
    if (broken) return this.close(broken);
    if (message.type === "piece") this.down.add(message.block.length);
    this.handler.onMessage(this, message);
    this.replacedPieces = null;
  }

  private onHandshake(handshake: Handshake): void {
    const refusal = handshakeRefusal(handshake, boundTorrent(this.binding), this.options.ourPeerId);
    if (refusal) {
      if (refusal.code === "self" && !this.outgoing) this.sendRaw(selfEcho(handshake, this.options.ourPeerId));
      return this.close(refusal);
    }
    this.remotePeerId = handshake.peerId.slice();
    this.peerSpeaksExtensions = supportsExtensions(handshake.reserved);
    const answer = this.handler.onHandshake(this, handshake);
    if (answer !== null && "code" in answer) return this.close(answer);
    if (answer !== null) this.bind(answer, handshake.infoHash);
    const torrent = boundTorrent(this.binding);
    // A bug in the handler, not the peer's doing: it accepted a connection without saying for what.
    if (!torrent) throw new Error("PeerConnection: handshake accepted with no torrent bound");
    this.state = "open";
    this.fast = supportsFast(handshake.reserved);
    if (!this.outgoing) this.sendRaw(ourHandshake(torrent, this.options.ourPeerId));
    const peer = { reserved: handshake.reserved, fast: this.fast, extensions: this.peerSpeaksExtensions };
    for (const bytes of openingMessages(torrent, peer, this.options.listenPort)) this.sendRaw(bytes);
  }

  /** The handshake named the torrent: messages from now on are bounded by it and go to its handler. */
  private bind(adoption: TorrentAdoption, named: Uint8Array): void {
    this.binding = bind(this.binding, adoption.torrent, named);
    this.handler = adoption.handler;
    this.peerPieces = new Bitfield(adoption.torrent.pieceCount ?? 0);
    this.reader.bind(adoption.torrent.pieceCount);
  }

  /**
   * An open connection whose torrent's piece count was unknown (a magnet link's) moves to the torrent its
   * metadata made: messages are bounded by the real count from now on and go to `adoption.handler`, the
   * peer's pieces told so far are checked against that count, and our extension handshake goes out again
   * with what the new binding adds (the metadata's size; its extensions must be those of the first).
   * Returns why the peer's earlier messages do not fit (the caller closes it), or null.
   */
  rebind(adoption: TorrentAdoption): CloseReason | null {
    if (this.state !== "open") throw new Error("PeerConnection: rebind needs an open connection of unknown piece count");
    const { binding, pieceCount: count, early } = rebind(this.binding, adoption.torrent);
    this.binding = binding;
    this.handler = adoption.handler;
    this.reader.bind(count);
    try {
      this.peerPieces = early.resolve(count);
    } catch (error) {
      if (error instanceof WireError) return { code: "protocol", detail: error.message };
      throw error;
    }
    // No bitfield went out (we had no pieces without a count): what we have now goes as `have`s, always legal.
    const ours = adoption.torrent.ourPieces();
    for (let i = 0; i < count; i++) if (ours.has(i)) this.send({ type: "have", index: i });
    if (this.peerSpeaksExtensions) this.sendRaw(extensionHandshakeMessage(this.options.listenPort, adoption.torrent));
    return null;
  }

  // ---- writing ---------------------------------------------------------------------------------------

  private sendRaw(bytes: Uint8Array, done?: () => void): void {
    if (this.state === "closed") {
      done?.();
      return;
    }
    this.lastSentAt = Date.now();
    this.writes.send(bytes, done);
  }

  /** `done`, when given, runs once the kernel took the message's last byte (or the connection closed). */
  send(message: WireMessage, done?: () => void): void {
    // A bug if it happens: the fast extension's messages go only to a peer that set its bit.
    if (isFastMessage(message) && !this.fast) throw new Error(`PeerConnection: ${message.type} to a peer without the fast extension`);
    this.sendRequestBatch();
    this.sending(message);
    this.sendRaw(encodeMessage(message), done);
  }

  /** Queues a request into a batch that goes out in one write on `flushRequests` (or when full). */
  request(index: number, begin: number, length: number): void {
    if (this.requests.full) this.sendRequestBatch();
    this.requests.add(index, begin, length);
  }

  /** Sends the queued requests now, or, while a received chunk is handled, at the end of it. */
  flushRequests(): void {
    if (!this.receiving) this.sendRequestBatch();
  }

  private sendRequestBatch(): void {
    const frames = this.requests.take();
    if (frames) this.sendRaw(frames); // borrowed: an unsent tail is copied by the queue
  }

  /** Whole piece messages (13-byte header + block each) already framed in `frame`, carrying `blockLength`
   *  payload bytes in all; `done` runs once the kernel took the last byte. */
  sendFramedBlock(frame: Uint8Array, blockLength: number, done: () => void): void {
    this.sendRequestBatch();
    this.up.add(blockLength);
    this.sendRaw(frame, done);
  }

  /**
   * True when piece blocks may be spliced from files (`sendFileBlock`) on this connection: plain
   * BitTorrent, or MSE with a plaintext payload once MseSocket has no handshake bytes queued. Under RC4
   * the bytes must go through MseSocket, so blocks go from buffers.
   */
  get sendsFiles(): boolean {
    return this.writes.sendsFiles;
  }

  /** A piece message whose block goes from `regions` to the socket through the kernel alone; false: no room now. */
  sendFileBlock(index: number, begin: number, length: number, regions: readonly FileRegion[], count: number): boolean {
    if (this.state === "closed") return false;
    this.sendRequestBatch();
    writePieceHeader(pieceHeader, 0, index, begin, length);
    if (!this.writes.sendFileBlock(pieceHeader, regions, count)) return false;
    this.lastSentAt = Date.now();
    this.up.add(length);
    return true;
  }

  /** Sends the piece messages `sendFileBlock` queued (a span's worth, together). */
  flushBlocks(): void {
    this.writes.flushBlocks();
  }

  drained(): void {
    this.writes.flush();
    if (this.state !== "closed") this.handler.onDrain(this);
  }

  // ---- closing ---------------------------------------------------------------------------------------

  close(reason: CloseReason): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closedFor = reason;
    this.closeReason = describeClose(reason);
    if (process.env.BTPEER_DEBUG) console.error(`peer ${this.address.ip}:${this.address.port} closed: ${this.closeReason}`);
    this.writes.close();
    this.reader.stop();
    try {
      this.socket.end();
    } catch {
      // already gone
    }
    this.handler.onClose(this, this.closeReason);
  }

  /** The socket went away underneath us. */
  closed(reason: CloseReason): void {
    this.close(reason);
  }
}
