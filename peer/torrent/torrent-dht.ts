// A torrent's side of the client's DHT (BEP 5): its place in the announcer's schedule, the DHT port its
// handshakes carry, the nodes its peers' `port` messages name, and whether the DHT may still find it
// peers. A private torrent (BEP 27) does none of it, here in one place.
import type { PeerAddress } from "../../shared/compact.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import type { TorrentEvent } from "./events.ts";

/** What the DHT needs of a torrent (a Metainfo is one; so is a magnet link's torrent, not private as far as it knows). */
export interface DhtTorrentIdentity {
  readonly infoHash: Uint8Array;
  /** BEP 27. */
  readonly private: boolean;
}

export interface TorrentDhtHooks {
  peersFound(peers: PeerAddress[]): void;
  emit(event: TorrentEvent): void;
  /** Short of peers (a downloader that knows none): looked up again sooner. */
  wantsPeers(): boolean;
}

/**
 * The torrent's registration in the client's DHT: none; held (it was made again from dormant, and the
 * registration the client kept for it meanwhile is its own now, with that registration's entry until it
 * works); or joined (its own entry: its peers found, its events).
 */
type Registration = "none" | "held" | "joined";

export class TorrentDhtLink {
  private registration: Registration = "none";

  constructor(
    private readonly meta: DhtTorrentIdentity,
    private readonly host: TorrentHost,
    private readonly hooks: TorrentDhtHooks,
  ) {}

  /** Our DHT node's port for this torrent's handshakes and port messages; undefined without one. */
  port(): number | undefined {
    return this.meta.private ? undefined : this.host.dht?.port;
  }

  /**
   * Looked up and announced from now on (a no-op without a DHT, or once joined). A held registration
   * takes this torrent's entry and keeps its place in the announcer's schedule: no lookup at once.
   */
  join(): void {
    const dht = this.host.dht;
    if (!dht || this.meta.private || this.registration === "joined") return;
    this.registration = "joined";
    dht.add(this.meta.infoHash, {
      port: this.host.port,
      private: false,
      onPeers: (peers) => this.hooks.peersFound(peers),
      onLookup: ({ peers, announcedTo }) => this.hooks.emit({ event: "dht", peers, announcedTo }),
      wantsPeers: () => this.hooks.wantsPeers(),
    });
  }

  /** Made again from dormant: the registration the client kept for it is its own (left as a joined one is). */
  hold(): void {
    if (this.registration === "none" && !this.meta.private) this.registration = "held";
  }

  leave(): void {
    if (this.registration !== "none") this.host.dht?.remove(this.meta.infoHash);
    this.registration = "none";
  }

  /**
   * Let go while dormant: its registration stays in the client's DHT, for the client to keep (no lookup
   * lost, no second announce). True when the torrent belongs in the DHT while dormant (it is public),
   * whether or not the client has a DHT now.
   */
  handOver(): boolean {
    this.registration = "none";
    return !this.meta.private;
  }

  /** In the announcer's schedule with its own entry (from the torrent's work() until its quiet()). */
  get joined(): boolean {
    return this.registration === "joined";
  }

  /** A peer's `port` message: the client's DHT pings its node and keeps it if it answers. */
  portMessage(ip: string, port: number): void {
    if (!this.meta.private) this.host.dht?.nodeHeard(ip, port);
  }

  mayFindPeers(): boolean {
    return !this.meta.private && this.host.dht?.mayFindPeers() === true;
  }
}
