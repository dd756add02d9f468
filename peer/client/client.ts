// The process-level peer: one per process, whatever the number of torrents. It owns what torrents share:
// the peer id, the listening socket, the encryption policy, incoming connections until their handshake
// names a torrent (then they are handed to that torrent, or dropped when it is not ours), the connection
// limit across torrents, the piece-pool budget, the hashing threads that check downloaded pieces (HashPool),
// and the DHT node (client-dht.ts). Each torrent keeps its
// own peers, slots (--max-peers), tracker and pieces. An incoming connection is the client's until its
// handshake names a torrent (incoming-connections.ts); what a torrent asks of the client is torrent-host.ts.
import { scopeOf, type AnnounceScope } from "../tracker/announce-scope.ts";
import { DEFAULT_ANNOUNCE_SETTINGS, type AnnounceSettings } from "../tracker/announce-settings.ts";
import { toHex } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import { generatePeerId } from "../../shared/ids.ts";
import { SkeyTable } from "../../shared/mse/keys.ts";
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";
import { describeClose, type CloseReason } from "../net/close-reason.ts";
import type { MseLimits } from "../net/mse/limits.ts";
import { listenForPeers } from "../net/sockets.ts";
import { slotLimits, type SlotLimits } from "../swarm/connection-slots.ts";
import { type MagnetHost, type MagnetSettings, MagnetTorrent } from "../metadata/magnet-torrent.ts";
import { Torrent } from "../torrent/torrent.ts";
import { ClientDht, type ClientDhtOptions } from "./client-dht.ts";
import { IncomingConnections } from "./incoming-connections.ts";
import { PoolBudget } from "./pool-budget.ts";
import type { TorrentSettings } from "../torrent/options.ts";
import type { GlobalRateLimits } from "./torrent-host.ts";
import { HashPool } from "../verify/hash-pool.ts";
import type { DormantCarry } from "../torrent/dormancy.ts";
import { type DormantTorrent, DormantTorrents } from "./dormant-torrents.ts";
import { downloadLimit, uploadLimit } from "../torrent/tuning.ts";

export interface ClientOptions {
  /** 0 picks a free port. */
  port: number;
  /** The one local address to listen on and dial from (undefined: every interface, the system's choice). */
  bind?: string;
  /** Peer connections across all torrents at most (a torrent's provisional peers aside, as within one torrent). */
  maxConnections?: number;
  /** Piece-pool bytes shared by all torrents. */
  poolBytes?: number;
  /** Hashing threads shared by all torrents, at most (default: one per core but one, see defaultHashThreads). */
  hashThreads?: number;
  /** Bytes per second across all torrents (each torrent's own limit applies as well). */
  uploadLimit?: number;
  downloadLimit?: number;
  peerId?: Uint8Array;
  /**
   * --encryption (MSE/PE), for incoming connections and every torrent's dials. Default "prefer": both kinds
   * accepted, dials open with MSE and fall back to plain BitTorrent.
   */
  encryption?: EncryptionPolicy;
  /** An incoming connection was dropped before any torrent took it (policy, MSE failure, unknown torrent, deadline). */
  onIncomingDropped?: (address: PeerAddress, reason: CloseReason) => void;
  /** Tests: shorter MSE deadlines. */
  mseLimits?: Partial<MseLimits>;
  /** Announce to all tiers / all trackers (qBittorrent's settings); default DEFAULT_ANNOUNCE_SETTINGS. */
  announce?: Partial<AnnounceSettings>;
}

export const DEFAULT_MAX_CONNECTIONS = 200;
const DEFAULT_POOL_BYTES = 64 * 1024 * 1024;
const TICK_MS = 1_000;

/** Limits across all torrents (DaemonControl's GlobalLimits): bytes per second or null, and peer connections. */
export interface GlobalLimits {
  uploadLimit: number | null;
  downloadLimit: number | null;
  maxPeers: number;
}

export type { DormantTorrent } from "./dormant-torrents.ts";
export type { TorrentHost } from "./torrent-host.ts";
export type { TorrentSettings } from "../torrent/options.ts";
export type { MagnetSettings } from "../metadata/magnet-torrent.ts";

export class Client implements MagnetHost {
  readonly peerId: Uint8Array;
  readonly bind: string | null;
  readonly pool: PoolBudget;
  readonly hashing: HashPool;
  readonly encryption: EncryptionPolicy;
  readonly mseLimits?: Partial<MseLimits>;
  readonly limits: GlobalRateLimits;
  port = 0;
  private announce: AnnounceSettings;
  private slots: SlotLimits;
  /** By info hash: torrents, and magnet links' torrents until their metadata is in. */
  private readonly torrents = new Map<string, Torrent | MagnetTorrent>();
  /** Torrents let go while dormant, with their announces. Their info hashes stay in `skeys`: a peer may still name them. */
  private readonly dormant = new DormantTorrents(this);
  /** What an MSE receiver finds our torrents by (HASH('req2', info hash)). */
  private readonly skeys = new SkeyTable();
  /** Incoming connections until their handshake names a torrent. */
  private readonly incoming = new IncomingConnections(this, {
    skeys: this.skeys,
    listening: () => this.listener !== null,
    slots: () => this.slots,
    serves: (key) => this.torrents.has(key) || this.dormant.has(key),
    torrentFor: (key) => this.torrents.get(key) ?? this.wake(key),
    dropped: (address, reason) => this.dropped(address, reason),
  });
  private listener: ReturnType<typeof listenForPeers> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  dht: ClientDht | null = null;
  private readonly onIncomingDropped: ClientOptions["onIncomingDropped"];

  constructor(options: ClientOptions) {
    this.peerId = options.peerId ?? generatePeerId();
    this.bind = options.bind ?? null;
    this.port = options.port;
    this.encryption = options.encryption ?? "prefer";
    this.mseLimits = options.mseLimits;
    this.onIncomingDropped = options.onIncomingDropped;
    this.announce = { ...DEFAULT_ANNOUNCE_SETTINGS, ...options.announce };
    // The same bounds as one torrent's slots, over all torrents: with one torrent they never bind first.
    this.slots = slotLimits(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.pool = new PoolBudget(options.poolBytes ?? DEFAULT_POOL_BYTES);
    this.hashing = new HashPool({ threads: options.hashThreads });
    this.limits = { upload: uploadLimit(options.uploadLimit ?? null), download: downloadLimit(options.downloadLimit ?? null) };
  }

  /**
   * Changes the limits across all torrents at run time. A lower connection cap takes no connection away:
   * it stops new ones until the count is under it. Throws RangeError for an impossible value.
   */
  setGlobalLimits(limits: Partial<GlobalLimits>): GlobalLimits {
    for (const rate of [limits.uploadLimit, limits.downloadLimit]) {
      if (rate !== undefined && rate !== null && !(Number.isFinite(rate) && rate > 0))
        throw new RangeError(`a rate limit must be a positive number or null, got ${rate}`);
    }
    if (limits.maxPeers !== undefined && !(Number.isInteger(limits.maxPeers) && limits.maxPeers >= 1)) {
      throw new RangeError(`max peers must be a whole number ≥ 1, got ${limits.maxPeers}`);
    }
    if (limits.uploadLimit !== undefined) this.limits.upload.set(limits.uploadLimit);
    if (limits.downloadLimit !== undefined) this.limits.download.set(limits.downloadLimit);
    if (limits.maxPeers !== undefined) this.slots = slotLimits(limits.maxPeers);
    for (const torrent of this.torrents.values()) torrent.setRateLimits({}); // a raised limit is used at once
    return this.globalLimits;
  }

  get announceSettings(): AnnounceSettings {
    return { ...this.announce };
  }

  /** Changes which trackers are announced to; each torrent goes by it from its next announce. */
  setAnnounceSettings(settings: Partial<AnnounceSettings>): AnnounceSettings {
    this.announce = { ...this.announce, ...settings };
    return this.announceSettings;
  }

  announceScope(): AnnounceScope {
    return scopeOf(this.announce);
  }

  get globalLimits(): GlobalLimits {
    return { uploadLimit: this.limits.upload.rate, downloadLimit: this.limits.download.rate, maxPeers: this.slots.capacity };
  }

  /** Listens for peers. Throws ListenError when the port is taken or the --bind address is not ours. */
  start(): void {
    this.listener = listenForPeers(this.port, this.bind, (socket, address) => this.incoming.accept(socket, address));
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
    this.dormant.dhtEnabled();
    return dht;
  }

  /** Registers a torrent; its `start()` announces and dials. */
  addTorrent(settings: TorrentSettings): Torrent {
    const key = toHex(settings.meta.infoHash);
    if (this.torrents.has(key) || this.dormant.has(key)) throw new Error(`torrent ${key} is already added`);
    return this.register(settings.meta.infoHash, new Torrent({ ...settings, host: this }));
  }

  /** Registers a magnet link's torrent; its `start()` announces, dials and fetches the metadata. */
  addMagnet(settings: MagnetSettings): MagnetTorrent {
    const key = toHex(settings.link.infoHash);
    if (this.torrents.has(key)) throw new Error(`torrent ${key} is already added`);
    const magnet = new MagnetTorrent({ ...settings, host: this });
    this.torrents.set(key, magnet);
    this.skeys.add(magnet.infoHash);
    void magnet.finished.then((outcome) => {
      if ("torrent" in outcome || this.torrents.get(key) !== magnet) return; // a Torrent took its place (and its key)
      this.torrents.delete(key);
      this.skeys.remove(magnet.infoHash);
    });
    return magnet;
  }

  promote(magnet: MagnetTorrent, settings: TorrentSettings): Torrent {
    const key = toHex(magnet.infoHash);
    if (this.torrents.get(key) !== magnet) throw new Error(`torrent ${key}: promoting a magnet the client does not hold`);
    const torrent = this.register(magnet.infoHash, new Torrent({ ...settings, host: this }));
    torrent.start();
    return torrent;
  }

  private register(infoHash: Uint8Array, torrent: Torrent): Torrent {
    const key = toHex(infoHash);
    this.torrents.set(key, torrent);
    this.skeys.add(infoHash);
    // A torrent that ended (stopped, or failed) takes no more peers.
    void torrent.finished.then(() => {
      if (this.torrents.get(key) !== torrent) return;
      this.torrents.delete(key);
      this.skeys.remove(infoHash);
    });
    return torrent;
  }

  /**
   * Lets a dormant torrent go (false if it is not dormant, or not ours): its files close, its info hash is
   * kept, and `dormant.wake()` makes it again when a peer's handshake names it (or wake() is called).
   */
  sleep(torrent: Torrent, dormant: DormantTorrent): boolean {
    const key = dormant.infoHash;
    if (this.torrents.get(key) !== torrent || !torrent.dormant) return false;
    this.torrents.delete(key);
    this.dormant.keep(torrent.meta.infoHash, dormant, torrent.release());
    return true;
  }

  /** Registers a torrent dormant from the start (a daemon's stored seeder with nothing to do): as sleep() leaves one. */
  addDormant(infoHash: Uint8Array, dormant: DormantTorrent, carry: DormantCarry): void {
    const key = dormant.infoHash;
    if (this.torrents.has(key) || this.dormant.has(key)) throw new Error(`torrent ${key} is already added`);
    this.skeys.add(infoHash);
    this.dormant.keep(infoHash, dormant, carry);
  }

  /**
   * Makes a dormant torrent again (dialling `peers`); null if `key` (hex info hash) is not dormant, or it
   * could not be made.
   */
  wake(key: string, peers: PeerAddress[] = []): Torrent | null {
    return this.dormant.wake(key, peers);
  }

  /** A dormant torrent's trackers as Torrent.trackers() shows them; null if it is not dormant or has none. */
  dormantTrackers(key: string): ReturnType<Torrent["trackers"]> | null {
    return this.dormant.trackers(key);
  }

  /** Stops the torrent (announcing `stopped`) and forgets it. */
  async removeTorrent(infoHash: Uint8Array): Promise<void> {
    const key = toHex(infoHash);
    if (this.dormant.has(key)) {
      this.skeys.remove(infoHash);
      await this.dormant.remove(key);
      return;
    }
    const torrent = this.torrents.get(toHex(infoHash));
    if (!torrent) return;
    this.torrents.delete(toHex(infoHash));
    this.skeys.remove(infoHash);
    await torrent.stop(0);
  }

  /** Stops every torrent, then stops listening. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listener?.stop(true);
    this.listener = null;
    this.incoming.closeAll();
    await Promise.all([...[...this.torrents.values()].map((t) => t.stop(0)), this.dormant.stopAll()]);
    this.torrents.clear();
    this.hashing.stopThreads(); // each torrent gave its memory back: nothing is left for them
    this.dht?.close();
    this.dht = null;
  }

  /** The one timer of the process's peers: handshakes' deadlines, and each torrent's second. */
  private tick(): void {
    const now = Date.now();
    this.incoming.expire(now);
    for (const torrent of this.torrents.values()) torrent.tick();
    this.dormant.tick(now);
  }

  /** Incoming connections no torrent has taken yet: sniffed, in the MSE handshake, or awaiting the BitTorrent one. */
  get incomingHandshakes(): number {
    return this.incoming.count;
  }

  room(): number {
    let used = 0;
    for (const torrent of this.torrents.values()) used += torrent.connectionCount();
    return this.slots.capacity - used;
  }

  private dropped(address: PeerAddress, reason: CloseReason): void {
    if (process.env.BTPEER_DEBUG) console.error(`incoming ${address.ip}:${address.port} dropped: ${describeClose(reason)}`);
    this.onIncomingDropped?.(address, reason);
  }
}
