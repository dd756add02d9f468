// The process-level peer: one per process, whatever the number of torrents. It owns what torrents share:
// the peer id, the listening socket, incoming connections until their handshake names a torrent (then they
// are handed to that torrent, or dropped when it is not ours), the connection limit across torrents, and
// the piece-pool budget, and the DHT node (client-dht.ts). Each torrent keeps its own peers, slots
// (--max-peers), tracker and pieces.
import { toHex } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import { generatePeerId } from "../../shared/ids.ts";
import type { Handshake } from "../../shared/wire/types.ts";
import type { CloseReason } from "../net/close-reason.ts";
import { PeerConnection, type ConnectionHandler, type TorrentAdoption } from "../net/peer-connection.ts";
import { listenForPeers, type PeerSocket } from "../net/sockets.ts";
import { handshakeToDrop, slotLimits, type SlotLimits } from "../swarm/connection-slots.ts";
import { expireHandshakes } from "../swarm/liveness.ts";
import { Torrent, type TorrentOptions } from "../torrent/torrent.ts";
import { ClientDht, type ClientDhtOptions, type TorrentDht } from "./client-dht.ts";
import { PoolBudget } from "./pool-budget.ts";

export interface ClientOptions {
  /** 0 picks a free port. */
  port: number;
  /** The one local address to listen on and dial from (undefined: every interface, the system's choice). */
  bind?: string;
  /** Peer connections across all torrents at most (a torrent's provisional peers aside, as within one torrent). */
  maxConnections?: number;
  /** Piece-pool bytes shared by all torrents. */
  poolBytes?: number;
  peerId?: Uint8Array;
}

export const DEFAULT_MAX_CONNECTIONS = 200;
const DEFAULT_POOL_BYTES = 64 * 1024 * 1024;
const TICK_MS = 1_000;

/** What a torrent asks of its client. */
export interface TorrentHost {
  readonly peerId: Uint8Array;
  /** The port peers reach us on (known once the client listens). */
  readonly port: number;
  readonly bind: string | null;
  /** Connections the torrent may still open under the limit across torrents. */
  room(): number;
  readonly pool: PoolBudget;
  /** The process's DHT, null without one (--no-dht, or before `enableDht`). */
  readonly dht: TorrentDht | null;
}

export type TorrentSettings = Omit<TorrentOptions, "host">;

export class Client implements ConnectionHandler, TorrentHost {
  readonly peerId: Uint8Array;
  readonly bind: string | null;
  readonly pool: PoolBudget;
  port = 0;
  private readonly limits: SlotLimits;
  private readonly torrents = new Map<string, Torrent>();
  /** Incoming connections whose handshake has not named a torrent yet. */
  private readonly handshaking = new Set<PeerConnection>();
  private listener: ReturnType<typeof listenForPeers> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  dht: ClientDht | null = null;

  constructor(options: ClientOptions) {
    this.peerId = options.peerId ?? generatePeerId();
    this.bind = options.bind ?? null;
    this.port = options.port;
    // The same bounds as one torrent's slots, over all torrents: with one torrent they never bind first.
    this.limits = slotLimits(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.pool = new PoolBudget(options.poolBytes ?? DEFAULT_POOL_BYTES);
  }

  /** Listens for peers. Throws ListenError when the port is taken or the --bind address is not ours. */
  start(): void {
    this.listener = listenForPeers(this.port, this.bind, (socket, address) => this.accept(socket, address));
    this.port = this.listener.port;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * Starts the DHT node on the listener's port number (UDP), after `start()`. Torrents started before it
   * are added to it too. Throws DhtError when no UDP socket can be opened.
   */
  async enableDht(options: ClientDhtOptions): Promise<ClientDht> {
    if (this.dht) throw new Error("Client: the DHT is already enabled");
    const dht = await ClientDht.start(this.port, this.bind, options, () => {
      for (const torrent of this.torrents.values()) torrent.peerSourcesChanged();
    });
    if (!this.listener) {
      dht.close(); // stopped meanwhile
      return dht;
    }
    this.dht = dht;
    for (const torrent of this.torrents.values()) torrent.dhtEnabled();
    return dht;
  }

  /** Registers a torrent; its `start()` announces and dials. */
  addTorrent(settings: TorrentSettings): Torrent {
    const key = toHex(settings.meta.infoHash);
    if (this.torrents.has(key)) throw new Error(`torrent ${key} is already added`);
    const torrent = new Torrent({ ...settings, host: this });
    this.torrents.set(key, torrent);
    // A torrent that ended (stopped, or failed) takes no more peers.
    void torrent.finished.then(() => {
      if (this.torrents.get(key) === torrent) this.torrents.delete(key);
    });
    return torrent;
  }

  /** Stops the torrent (announcing `stopped`) and forgets it. */
  async removeTorrent(infoHash: Uint8Array): Promise<void> {
    const torrent = this.torrents.get(toHex(infoHash));
    if (!torrent) return;
    this.torrents.delete(toHex(infoHash));
    await torrent.stop(0);
  }

  /** Stops every torrent, then stops listening. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listener?.stop(true);
    this.listener = null;
    for (const conn of [...this.handshaking]) conn.close({ code: "shutting-down" });
    await Promise.all([...this.torrents.values()].map((t) => t.stop(0)));
    this.torrents.clear();
    this.dht?.close();
    this.dht = null;
  }

  /** The one timer of the process's peers: handshakes' deadlines, and each torrent's second. */
  private tick(): void {
    expireHandshakes(this.handshaking, Date.now());
    for (const torrent of this.torrents.values()) torrent.tick();
  }

  room(): number {
    let used = 0;
    for (const torrent of this.torrents.values()) used += torrent.connectionCount();
    return this.limits.capacity - used;
  }

  // ---- incoming connections until their handshake ------------------------------------------------------

  private accept(socket: PeerSocket, address: PeerAddress): PeerConnection | null {
    if (!this.listener) return null;
    // Handshakes hold no peer slot (connection-slots.ts); past their own cap the oldest makes room.
    handshakeToDrop(this.handshaking, this.limits.handshakes)?.close({ code: "too-many-handshakes" });
    const conn = new PeerConnection(socket, { ourPeerId: this.peerId, listenPort: this.port, outgoing: false, address }, this);
    this.handshaking.add(conn);
    return conn;
  }

  /** Routes the connection to the torrent its handshake names; an info hash we do not serve is dropped. */
  onHandshake(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    this.handshaking.delete(conn);
    const torrent = this.torrents.get(toHex(handshake.infoHash));
    if (!torrent) return { code: "unknown-torrent" };
    if (this.room() <= -this.limits.provisional) return { code: "too-many-peers" };
    return torrent.adopt(conn, handshake);
  }

  onMessage(): void {
    // The handshake hands every connection we keep to its torrent before any message is decoded.
    throw new Error("Client: a message on a connection that has no torrent");
  }

  onDrain(): void {}

  onClose(conn: PeerConnection): void {
    this.handshaking.delete(conn);
  }
}
