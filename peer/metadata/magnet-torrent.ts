// A torrent known only by its magnet link, until its metadata arrives: the client routes handshakes naming
// its info hash here as it does for a Torrent. It announces to the link's trackers (with `left` unknown),
// dials the link's and the tracker's peers, and fetches the info dictionary over ut_metadata (fetch in
// metadata-fetch.ts). Once the dictionary is verified, `prepare` (the caller's: storage, resume check)
// makes the Torrent's settings and the client swaps this for a Torrent that takes over the open peers, the
// known addresses and the bans: same process, same port, same connections. Metadata can also be handed
// over (a .torrent added for the same info hash): taken as fetched metadata is, once its SHA-1 is the info hash.
import { toHex } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { MagnetLink } from "../../shared/magnet.ts";
import { torrentFileFromInfo } from "../../shared/metainfo/from-info.ts";
import { MetainfoError } from "../../shared/metainfo/errors.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import { EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import { encodeMetadataMessage, metadataPieceCount, UT_METADATA } from "../../shared/wire/ut-metadata.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import { peerFailed, type CloseReason } from "../net/close-reason.ts";
import { OUR_EXTENSIONS, UT_METADATA_ID } from "../net/extension-handshake.ts";
import { PeerConnection, type ConnectionHandler, type TorrentAdoption, type TorrentBinding } from "../net/peer-connection.ts";
import { Admission } from "../swarm/admission.ts";
import { Dialer } from "../swarm/dialer.ts";
import { checkLiveness, expireHandshakes } from "../swarm/liveness.ts";
import { PeerDirectory } from "../swarm/peer-directory.ts";
import { PeerGate } from "../swarm/peer-gate.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { TorrentEvent, Totals } from "../torrent/events.ts";
import { exitCodeFor, type PeerErrorCode } from "../torrent/exit-codes.ts";
import type { Handover, TorrentSettings } from "../torrent/options.ts";
import type { Torrent } from "../torrent/torrent.ts";
import { TorrentDhtLink } from "../torrent/torrent-dht.ts";
import { TrackerAnnouncer } from "../tracker/tracker-announcer.ts";
import { MetadataFetch } from "./metadata-fetch.ts";
import { MetadataServer } from "./metadata-server.ts";
import { sha1, type SupplyRefusal, type SuppliedMetadata, suppliedTiers } from "./supplied-metadata.ts";

/** What a magnet link's torrent asks of its client: what a torrent does, and the Torrent its metadata describes. */
export interface MagnetHost extends TorrentHost {
  /** The metadata is in: the Torrent it describes takes the magnet's place (and its peers). */
  promote(magnet: MagnetTorrent, settings: TorrentSettings): Torrent;
}

export interface MagnetOptions {
  host: MagnetHost;
  link: MagnetLink;
  /** Peers to dial besides the tracker's: the link's x.pe and --peer. */
  peers: PeerAddress[];
  maxPeers: number;
  onEvent: (event: TorrentEvent) => void;
  /**
   * The verified metadata is in: open storage and check what is on disk for the torrent it describes
   * (`torrentFile`: the .torrent, for those who keep it). A failure is reported with its code.
   */
  prepare(meta: Metainfo, torrentFile: Uint8Array): Promise<Omit<TorrentSettings, "handover"> | { code: PeerErrorCode; message: string }>;
}

/** A magnet link as the client's caller describes it: the client adds itself as the host. */
export type MagnetSettings = Omit<MagnetOptions, "host">;

/** How the metadata phase ended: a Torrent carries on, or it stopped or failed with an exit code. */
export type MagnetOutcome = { torrent: Torrent } | { code: number };

/**
 * `metadata`: fetching; `preparing`: verified, storage being opened (peers kept, nothing fetched);
 * `promoted`: a Torrent took over; `stopped`, `error`: ended here.
 */
export type MagnetState = "metadata" | "preparing" | "promoted" | "stopped" | "error";

/** A torrent's totals before it has a piece count: nothing moved yet (metadata is not payload). */
const NOTHING_YET: Totals = {
  have: 0,
  pieces: 0,
  wantedPieces: 0,
  downloaded: 0,
  uploaded: 0,
  fetchedPieces: 0,
  resumedPieces: 0,
  failedPieces: 0,
  uploadedByFile: 0,
};

/** Tracker `left` while the size is unknown: what libtorrent sends, so trackers count us as a leecher. */
const UNKNOWN_LEFT = 16 * 1024;

export class MagnetTorrent implements ConnectionHandler {
  readonly infoHash: Uint8Array;
  private readonly peers = new Map<number, SwarmPeer>();
  private readonly directory = new PeerDirectory();
  private readonly bannedPeerIds = new Set<string>();
  private readonly admission: Admission;
  /** Who may be a peer (bans, duplicates, then the admission's slots). */
  private readonly gate: PeerGate;
  private readonly dialer: Dialer;
  private readonly tracker: TrackerAnnouncer;
  /** The client's DHT, when it has one: a link with no tracker finds its peers there. */
  private readonly dht: TorrentDhtLink;
  private readonly fetch: MetadataFetch<SwarmPeer>;
  /** Nothing to serve yet: every ut_metadata request is rejected. */
  private readonly server = new MetadataServer(null);
  private readonly binding: TorrentBinding;
  private current: MagnetState = "metadata";
  readonly finished: Promise<MagnetOutcome>;
  private finish!: (outcome: MagnetOutcome) => void;

  constructor(private readonly options: MagnetOptions) {
    const { link, host } = options;
    this.infoHash = link.infoHash;
    this.dht = new TorrentDhtLink({ infoHash: link.infoHash, private: false }, host, {
      peersFound: (peers) => this.peersFound(peers),
      emit: (e) => this.emit(e),
      wantsPeers: () => this.peers.size === 0,
    });
    const dhtPort = () => this.dht.port();
    this.binding = { infoHash: link.infoHash, pieceCount: null, ourPieces: () => new Bitfield(0), extensions: { m: OUR_EXTENSIONS }, dhtPort };
    this.admission = new Admission(options.maxPeers, this.peers);
    this.gate = new PeerGate(this.peers, this.directory, this.bannedPeerIds, this.admission, (e) => this.emit(e));
    this.dialer = new Dialer(
      this.directory,
      {
        room: () => Math.min(this.options.maxPeers - this.connectionCount(), host.room()),
        seeding: () => false,
        live: () => this.current === "metadata",
        open: (socket, address, encryption) => {
          if (this.current !== "metadata") return null;
          const options = { ourPeerId: host.peerId, listenPort: host.port, outgoing: true, address, encryption, torrent: this.binding };
          const conn = new PeerConnection(socket, options, this);
          this.admission.opened(conn);
          return conn;
        },
      },
      { infoHash: link.infoHash, encryption: host.encryption, bind: host.bind, mseLimits: host.mseLimits },
    );
    this.tracker = new TrackerAnnouncer({ infoHash: link.infoHash, announceList: link.trackers.map((t) => [t]) }, host.peerId, {
      stats: () => ({ uploaded: 0, downloaded: 0, left: UNKNOWN_LEFT }),
      peersFound: (peers) => this.peersFound(peers),
      emit: (e) => this.emit(e),
      knowsPeers: () => this.knowsPeers(),
      fatal: (code, message) => this.fail(code, message),
    });
    this.fetch = new MetadataFetch<SwarmPeer>(
      link.infoHash,
      {
        request: (peer, piece) => {
          const theirs = peer.conn.peerExtensions?.m.get(UT_METADATA);
          if (theirs !== undefined) peer.conn.send({ type: "extended", id: theirs, payload: encodeMetadataMessage({ kind: "request", piece }) });
        },
        verified: (infoBytes) => void this.promote(infoBytes, this.linkTiers(), []),
        failed: (senders, parole) => this.emit({ event: "metadata-failed", peers: senders.map((p) => p.label), parole }),
        ban: (peer, reason) => this.gate.ban(peer, reason),
      },
      sha1,
    );
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  get state(): MagnetState {
    return this.current;
  }

  /** Peers connected (for views). */
  get peerCount(): number {
    return this.peers.size;
  }

  private get live(): boolean {
    return this.current === "metadata" || this.current === "preparing";
  }

  start(): void {
    const { link } = this.options;
    for (const p of this.options.peers) this.directory.add(p);
    this.emit({
      event: "magnet",
      infoHash: toHex(link.infoHash),
      name: link.name ?? null,
      port: this.options.host.port,
      trackers: link.trackers.length,
      peers: this.options.peers.length,
    });
    this.dht.join(); // before the tracker, whose start may end it (and shutdown leaves the DHT)
    this.tracker.start(this.options.host.port, false);
    this.connectMore();
  }

  private peersFound(peers: PeerAddress[]): void {
    for (const p of peers) this.directory.add(p);
    this.connectMore();
  }

  /** Without a peer known, a tracker or a DHT that may still find one, the metadata cannot come. */
  private knowsPeers(): boolean {
    return this.directory.size > 0 || this.peers.size > 0 || this.dht.mayFindPeers();
  }

  /** The client's DHT came on (after this was added): look the info hash up there too. */
  dhtEnabled(): void {
    if (this.current === "metadata") this.dht.join();
  }

  /** The DHT's join found no node: with no other way to find a peer, the metadata phase ends. */
  peerSourcesChanged(): void {
    if (!this.dht.joined || this.current !== "metadata" || this.tracker.mayFindPeers() || this.knowsPeers()) return;
    this.fail("tracker-unreachable", "no usable tracker in the magnet link, no peer given, and no DHT node answered");
  }

  /** Closes every connection; announces `stopped` to the trackers. Safe to call twice. */
  async stop(code = 0): Promise<void> {
    if (!this.live) return;
    this.current = "stopped";
    await this.shutdown();
    this.emit({ event: "stopped", ...NOTHING_YET });
    this.finish({ code });
  }

  private fail(code: PeerErrorCode, message: string): void {
    if (!this.live) return;
    this.emit({ event: "error", code, message });
    this.current = "error";
    void this.shutdown().then(() => this.finish({ code: exitCodeFor(code) }));
  }

  private async shutdown(): Promise<void> {
    this.dialer.quiet();
    for (const conn of [...this.admission.handshaking]) conn.close({ code: "shutting-down" });
    for (const peer of [...this.peers.values()]) peer.conn.close({ code: "shutting-down" });
    this.dht.leave();
    await this.tracker.stop();
  }

  private emit(event: TorrentEvent): void {
    this.options.onEvent(event);
  }

  connectionCount(): number {
    return this.peers.size + this.admission.ownHandshakes();
  }

  private connectMore(): void {
    if (this.current === "metadata") this.dialer.connectMore();
  }

  // ---- connections -------------------------------------------------------------------------------------

  adopt(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    if (this.current !== "metadata") return { code: "shutting-down" };
    return this.gate.admit(conn, handshake) ?? { torrent: this.binding, handler: this };
  }

  onHandshake(conn: PeerConnection, handshake: Handshake): CloseReason | null {
    return this.gate.admit(conn, handshake);
  }

  onMessage(conn: PeerConnection, message: WireMessage): void {
    const peer = this.peers.get(conn.id);
    if (!peer) return;
    this.admission.handled(conn, message);
    if (message.type === "port") return this.dht.portMessage(conn.address.ip, message.port);
    if (message.type === "piece") return conn.close({ code: "protocol", detail: "a block before we asked for any" });
    if (message.type !== "extended") return;
    if (message.id === EXTENSION_HANDSHAKE_ID) return this.extensionHandshake(peer);
    if (message.id !== UT_METADATA_ID || this.current !== "metadata") return;
    // A malformed message throws WireError: the connection closes as for any protocol error.
    const m = this.server.received(conn, message.payload);
    const answer =
      m.kind === "data" ? this.fetch.data(peer, m.piece, m.totalSize, m.data) : m.kind === "reject" ? (this.fetch.reject(peer, m.piece), null) : null;
    if (answer && !answer.ok) conn.close({ code: "protocol", detail: answer.problem });
  }

  /** The peer's extension handshake: a peer with the metadata becomes a source (a repeat may change its size). */
  private extensionHandshake(peer: SwarmPeer): void {
    const ext = peer.conn.peerExtensions;
    const size = ext?.metadataSize;
    if (this.current !== "metadata" || size === undefined || !ext?.m.has(UT_METADATA)) return;
    const answer = this.fetch.addSource(peer, size);
    if (!answer.ok) peer.conn.close({ code: "protocol", detail: answer.problem });
  }

  onDrain(): void {}

  onClose(conn: PeerConnection): void {
    this.admission.closed(conn, Date.now());
    const peer = this.peers.get(conn.id);
    if (peer) {
      this.peers.delete(conn.id);
      this.server.forget(conn);
      this.fetch.removeSource(peer);
    }
    if (conn.outgoing) {
      const failed = conn.closedFor === null || !peer || peerFailed(conn.closedFor);
      this.dialer.closed(conn, { failed, seed: false });
    }
    if (this.current === "metadata") queueMicrotask(() => this.connectMore());
  }

  // ---- the metadata is in ------------------------------------------------------------------------------

  /**
   * Metadata handed over while this still fetches it: used at once, as verified fetched metadata would be
   * (nothing more is fetched), with its trackers (supplied-metadata.ts) and web seeds. Null when taken.
   */
  supplyMetadata(supplied: SuppliedMetadata): SupplyRefusal | null {
    if (this.current !== "metadata") return { code: "not-fetching", message: `its metadata phase is over (${this.current})` };
    const tiers = suppliedTiers(supplied, this.infoHash, this.linkTiers());
    if ("code" in tiers) return tiers;
    void this.promote(supplied.infoBytes, tiers, supplied.urlList);
    return null;
  }

  /** The link's trackers, each its own tier (as announced while fetching). */
  private linkTiers(): string[][] {
    return this.options.link.trackers.map((t) => [t]);
  }

  private async promote(infoBytes: Uint8Array, tiers: string[][], urlList: string[]): Promise<void> {
    this.current = "preparing";
    this.emitProgress(metadataPieceCount(infoBytes.length));
    const torrentFile = torrentFileFromInfo(infoBytes, tiers, urlList);
    let meta: Metainfo;
    try {
      meta = parseMetainfo(torrentFile);
    } catch (error) {
      if (!(error instanceof MetainfoError)) throw error;
      return this.fail("bad-torrent", `the metadata peers sent matches the info hash but is not a valid torrent: ${error.message}`);
    }
    const prepared = await this.options.prepare(meta, torrentFile);
    if ("code" in prepared) return this.fail(prepared.code, prepared.message);
    if (this.current !== "preparing") {
      prepared.storage.close(); // stopped while storage was being opened
      return;
    }
    this.current = "promoted";
    this.tracker.abandon(); // the torrent announces from now on, with what is left
    this.dht.leave(); // and joins the DHT itself, unless the metadata says it is private
    this.dialer.quiet();
    // Dials still handshaking cannot be bound again before their handshake: they go, the open peers stay.
    for (const conn of [...this.admission.handshaking]) conn.close({ code: "local", detail: "metadata complete; dialled again by the torrent" });
    const handover: Handover = { peers: [...this.peers.values()], directory: this.directory, bannedPeerIds: this.bannedPeerIds };
    this.peers.clear();
    this.finish({ torrent: this.options.host.promote(this, { ...prepared, handover }) });
  }

  // ---- timers ------------------------------------------------------------------------------------------

  /** The client's limits changed: nothing to pace here, the metadata phase moves no payload. */
  setRateLimits(): void {}

  /** Once a second, from the client's one timer. */
  tick(): void {
    if (!this.live) return;
    const now = Date.now();
    expireHandshakes(this.admission.handshaking, now);
    checkLiveness(this.peers.values(), now);
    this.admission.tick(now);
    if (this.current !== "metadata") return;
    this.fetch.tick(now);
    this.connectMore();
    this.emitProgress(null);
  }

  /** The fetch's progress, or once the metadata is in, all of its `pieces`. */
  private emitProgress(pieces: number | null): void {
    const { received, total } = pieces === null ? this.fetch.progress() : { received: pieces, total: pieces };
    this.emit({ event: "metadata", received, total, peers: this.peers.size, done: pieces !== null });
  }
}
