// One torrent: ties storage, the piece pool, picker, choker, peer connections and the tracker client
// together, and reports what happens as SessionEvents. The data path lives in Downloader/Uploader; this
// file is about peers coming and going, timers, and the tracker.
import type { Bitfield } from "../../shared/bitfield.ts";
import { toHex } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import { Choker, RECHOKE_INTERVAL_MS } from "../choker.ts";
import { OUR_REQQ } from "../net/extension-handshake.ts";
import { SlotHasher } from "../verify/slot-hasher.ts";
import { PeerConnection, type ConnectionHandler, type ConnectionOptions } from "../net/peer-connection.ts";
import { listenForPeers, type PeerSocket } from "../net/sockets.ts";
import { TokenBucket } from "../net/token-bucket.ts";
import { BufferPool } from "../pool.ts";
import { Admission } from "./admission.ts";
import { Dialer } from "./dialer.ts";
import { Downloader, type PieceWriter } from "./downloader.ts";
import type { SessionEvent, Totals } from "./events.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { checkLiveness } from "./liveness.ts";
import { PeerDirectory } from "./peer-directory.ts";
import { ProgressReport } from "./progress-report.ts";
import { SwarmPeer } from "./swarm-peer.ts";
import { TrackerAnnouncer } from "./tracker-announcer.ts";
import { SPAN_PAYLOAD, Uploader, type BlockReader } from "./uploader.ts";

// The commands import it from here.
export { exitCodeFor };

export interface SessionStorage extends PieceWriter, BlockReader {
  close(): void;
}

export interface SessionOptions {
  meta: Metainfo;
  storage: SessionStorage;
  /** Pieces already verified on disk. */
  have: Bitfield;
  peerId: Uint8Array;
  /** 0 picks a free port. */
  port: number;
  /** The one local address to listen on and dial from (undefined: every interface, the system's choice). */
  bind?: string;
  poolBytes: number;
  maxPeers: number;
  /** Peers to dial besides what trackers tell us. */
  peers: PeerAddress[];
  /** Stay on as a seeder once complete. */
  seed: boolean;
  /** Upload limit for the whole session in bytes per second (undefined: none). */
  uploadLimit?: number;
  onEvent: (event: SessionEvent) => void;
}

const TICK_MS = 1_000;

export class Session implements ConnectionHandler {
  readonly peers = new Map<number, SwarmPeer>();
  private readonly directory = new PeerDirectory();
  private readonly choker = new Choker();
  private readonly downloader: Downloader;
  private readonly uploader: Uploader;
  private readonly tracker: TrackerAnnouncer;
  private readonly dialer: Dialer;
  private readonly admission: Admission;
  private readonly bannedPeerIds = new Set<string>();
  private listener: ReturnType<typeof listenForPeers> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastRechoke = 0;
  private readonly report: ProgressReport;
  private readonly hasher: SlotHasher | null;
  private completedAnnounced = false;
  private stopping = false;
  /** Resolves when the session ends: download complete without --seed, stop(), or a fatal error. */
  readonly finished: Promise<number>;
  private finish!: (code: number) => void;
  port = 0;

  constructor(private readonly options: SessionOptions) {
    const { meta, have } = options;
    // Pieces are checked on a hashing thread that reads them in place, so the pool is shared memory.
    const downloading = !have.isComplete();
    const pool = new BufferPool({ slotSize: meta.pieceLength, totalBytes: options.poolBytes, shared: downloading });
    this.hasher = downloading ? new SlotHasher(pool.buffer as SharedArrayBuffer, meta.pieceHashes) : null;
    const storageFailed = (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      this.fail(typeof code === "string" ? code : "io", error instanceof Error ? error.message : String(error));
    };
    this.downloader = new Downloader(meta, have, pool, options.storage, {
      peers: () => this.peers.values(),
      pieceDone: (index) => this.pieceDone(index),
      pieceFailed: (index, senders, parole) => this.emit({ event: "piece-failed", index, peers: senders.map((p) => p.label), parole }),
      ban: (peer, reason) => this.ban(peer, reason),
      writeFailed: storageFailed,
    }, this.hasher);
    const limit = options.uploadLimit ? new TokenBucket(options.uploadLimit, { minBurst: SPAN_PAYLOAD }) : undefined;
    this.uploader = new Uploader(meta, have, options.storage, undefined, limit, storageFailed);
    this.report = new ProgressReport(meta, have, this.downloader, this.uploader);
    this.tracker = new TrackerAnnouncer(meta, options.peerId, {
      stats: () => ({ uploaded: this.uploader.uploaded, downloaded: this.downloader.downloaded, left: this.report.bytesLeft() }),
      peersFound: (peers) => {
        for (const p of peers) this.directory.add(p);
        this.connectMore();
      },
      emit: (e) => this.emit(e),
      // A seeder can wait for peers to come; a downloader that knows none cannot get anywhere.
      knowsPeers: () => this.directory.size > 0 || this.peers.size > 0 || this.options.have.isComplete(),
      fatal: (code, message) => this.fail(code, message),
    });
    this.admission = new Admission(options.maxPeers, this.peers);
    this.dialer = new Dialer(this.directory, {
      room: () => this.options.maxPeers - this.peers.size - this.admission.ownHandshakes(),
      seeding: () => this.options.have.isComplete(),
      open: (socket, address) => {
        if (this.stopping) return null;
        const conn = new PeerConnection(socket, this.connectionOptions(address, true), this);
        this.admission.opened(conn);
        return conn;
      },
    }, options.bind ?? null);
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** Listens, announces, dials. Throws ListenError when the port is taken or the --bind address is not ours. */
  start(): void {
    const { meta, have } = this.options;
    this.listener = listenForPeers(this.options.port, this.options.bind ?? null, (socket, address) => this.accept(socket, address));
    this.port = this.listener.port;
    for (const p of this.options.peers) this.directory.add(p);
    this.emit({ event: "started", name: meta.name, infoHash: toHex(meta.infoHash), length: meta.length, port: this.port, seeding: have.isComplete(), uploadLimit: this.options.uploadLimit ?? null, ...this.totals() });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tracker.start(this.port, have.isComplete());
    this.connectMore();
    if (have.isComplete()) this.onComplete();
  }

  /** Announces `stopped`, closes every connection and the files. Safe to call twice. */
  async stop(code = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.listener?.stop(true);
    for (const conn of [...this.admission.handshaking]) conn.close("shutting down");
    for (const peer of [...this.peers.values()]) peer.conn.close("shutting down");
    this.uploader.stop();
    this.downloader.abandonAll();
    await this.tracker.stop();
    await this.downloader.writesSettled();
    this.hasher?.stop();
    this.options.storage.close();
    this.emit({ event: "stopped", ...this.totals() });
    this.finish(code);
  }

  private fail(code: string, message: string): void {
    if (this.stopping) return; // the first error says it; writes failing after it would only repeat it
    this.emit({ event: "error", code, message });
    void this.stop(exitCodeFor(code));
  }

  totals(): Totals {
    return this.report.totals();
  }

  private emit(event: SessionEvent): void {
    this.options.onEvent(event);
  }

  // ---- connections -------------------------------------------------------------------------------------

  private connectionOptions(address: PeerAddress, outgoing: boolean): ConnectionOptions {
    const { meta, have, peerId } = this.options;
    return { ourPeerId: peerId, listenPort: this.port, outgoing, address, torrent: { infoHash: meta.infoHash, pieceCount: meta.pieceCount, ourPieces: () => have } };
  }

  private accept(socket: PeerSocket, address: PeerAddress): PeerConnection | null {
    if (this.stopping || this.directory.isBanned(address.ip)) return null;
    const conn = new PeerConnection(socket, this.connectionOptions(address, false), this);
    this.admission.opened(conn);
    return conn;
  }

  private connectMore(): void {
    if (!this.stopping) this.dialer.connectMore();
  }

  onHandshake(conn: PeerConnection, handshake: Handshake): string | null {
    const id = toHex(handshake.peerId);
    if (this.bannedPeerIds.has(id) || this.directory.isBanned(conn.address.ip)) return "banned";
    for (const peer of this.peers.values()) if (peer.conn.remotePeerId && toHex(peer.conn.remotePeerId) === id) return "already connected to this peer";
    const refusal = this.admission.admit(conn, Date.now());
    if (refusal) return refusal;
    this.peers.set(conn.id, new SwarmPeer(conn, OUR_REQQ));
    return null;
  }

  onMessage(conn: PeerConnection, message: WireMessage): void {
    const peer = this.peers.get(conn.id);
    if (!peer) return;
    try {
      this.handleMessage(peer, message);
      this.admission.handled(conn, message);
    } catch (error) {
      // Disk trouble (full, unwritable) ends the session with a clear line; anything else is a bug.
      const code = (error as { code?: unknown }).code;
      if (typeof code !== "string") throw error;
      this.fail(code, error instanceof Error ? error.message : String(error));
    }
  }

  private handleMessage(peer: SwarmPeer, message: WireMessage): void {
    const conn = peer.conn;
    switch (message.type) {
      case "piece":
        return this.downloader.blockReceived(peer, message.index, message.begin, message.block);
      case "request": {
        const problem = this.uploader.requested(peer, message.index, message.begin, message.length);
        if (problem) conn.close(problem);
        return;
      }
      case "cancel":
        return this.uploader.cancelled(peer, message.index, message.begin, message.length);
      case "bitfield":
        return this.downloader.bitfieldReceived(peer, conn.replacedPieces);
      case "have":
        return this.downloader.haveReceived(peer, message.index);
      case "unchoke":
        return this.downloader.fill(peer);
      case "choke":
        return this.downloader.choked(peer);
      case "interested":
        if (conn.amChoking && this.choker.hasFreeSlot([...this.peers.values()])) conn.send({ type: "unchoke" });
        return;
      case "not-interested":
        if (!conn.amChoking) {
          conn.send({ type: "choke" });
          this.uploader.choked(peer);
        }
        return;
      case "extended":
        // The extension handshake may raise the peer's reqq: use the room at once.
        return this.downloader.fill(peer);
      default:
        return;
    }
  }

  blockSink(conn: PeerConnection, index: number, begin: number, length: number) {
    const peer = this.peers.get(conn.id);
    return peer ? this.downloader.blockSink(peer, index, begin, length) : null;
  }

  onDrain(conn: PeerConnection): void {
    const peer = this.peers.get(conn.id);
    if (peer) this.uploader.serve(peer);
  }

  onClose(conn: PeerConnection, _reason: string): void {
    this.admission.closed(conn, Date.now());
    const peer = this.peers.get(conn.id);
    if (peer) {
      this.peers.delete(conn.id);
      this.downloader.peerRemoved(peer);
      this.uploader.peerRemoved(peer);
      this.choker.forget(conn.id);
    }
    if (conn.outgoing) {
      const failed = conn.state !== "closed" || !peer || conn.closeReason.startsWith("protocol") || conn.closeReason.includes("timeout");
      this.directory.disconnected(conn.address, Date.now(), { failed, seed: conn.peerPieces.isComplete() });
    }
    if (!this.stopping) queueMicrotask(() => this.connectMore());
  }

  /** Bans the peer's IP for the session (its port and peer id cost nothing to change) and drops every connection from it. */
  private ban(peer: SwarmPeer, reason: string): void {
    if (peer.conn.remotePeerId) this.bannedPeerIds.add(toHex(peer.conn.remotePeerId));
    const ip = peer.conn.address.ip;
    if (this.directory.isBanned(ip)) return;
    this.directory.ban(ip);
    this.emit({ event: "peer-banned", peer: peer.label, reason });
    for (const conn of [...this.admission.handshaking, ...[...this.peers.values()].map((p) => p.conn)]) {
      if (this.directory.isBanned(conn.address.ip)) conn.close(`banned: ${reason}`);
    }
  }

  // ---- pieces ------------------------------------------------------------------------------------------

  private pieceDone(index: number): void {
    // `have` only after the write: a peer may ask for the piece at once.
    for (const peer of this.peers.values()) {
      if (peer.conn.state !== "open") continue;
      peer.conn.send({ type: "have", index });
      if (peer.conn.amInterested && !this.downloader.picker.wants(peer)) peer.conn.send({ type: "not-interested" });
    }
    if (this.options.have.isComplete()) this.onComplete();
  }

  private onComplete(): void {
    if (this.completedAnnounced) return;
    this.completedAnnounced = true;
    this.hasher?.stop(); // every piece is checked and on disk: the hashing thread has nothing left to do
    const fresh = this.downloader.fetchedPieces > 0;
    this.emit({ event: "completed", seconds: this.report.elapsedSeconds(), ...this.totals() });
    if (fresh) this.tracker.completed();
    // Seeds have nothing for us now that we are complete.
    for (const peer of [...this.peers.values()]) if (peer.conn.peerPieces.isComplete()) peer.conn.close("both complete");
    if (!this.options.seed) void this.stop(0);
  }

  // ---- timers ------------------------------------------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    checkLiveness(this.admission.handshaking, this.peers.values(), now);
    this.admission.tick(now);
    if (now - this.lastRechoke >= RECHOKE_INTERVAL_MS) this.rechoke(now);
    this.downloader.fillAll();
    this.connectMore();
    this.emit(this.report.progress(this.peers));
  }

  private rechoke(now: number): void {
    this.lastRechoke = now;
    const peers = [...this.peers.values()];
    const unchoke = this.choker.decide(peers, this.options.have.isComplete(), now);
    for (const peer of peers) {
      const conn = peer.conn;
      if (unchoke.has(peer.id) && conn.amChoking) conn.send({ type: "unchoke" });
      else if (!unchoke.has(peer.id) && !conn.amChoking) {
        conn.send({ type: "choke" });
        this.uploader.choked(peer);
      }
    }
  }
}
