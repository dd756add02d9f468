// A torrent known only by its magnet link, until its metadata arrives: the client routes handshakes naming
// its info hash here as it does for a Torrent. It announces to the link's trackers (with `left` unknown),
// dials the link's and the tracker's peers, and fetches the info dictionary over ut_metadata (fetch in
// metadata-fetch.ts). Once the dictionary is verified, `prepare` (the caller's: storage, resume check)
// makes the Torrent's settings and the client swaps this for a Torrent that takes over the open peers, the
// known addresses and the bans: same process, same port, same connections. Metadata can also be handed
// over (a .torrent added for the same info hash): taken as fetched metadata is, once its SHA-1 is the info hash
// (a private .torrent's torrent takes the bans alone: its peers come from its own trackers, BEP 27).
import { toHex } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import { EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import { encodeMetadataMessage, metadataPieceCount, UT_METADATA } from "../../shared/wire/ut-metadata.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import { peerFailed, type CloseReason } from "../net/close-reason.ts";
import { OUR_EXTENSIONS, UT_METADATA_ID } from "../net/extension-handshake.ts";
import type { ConnectionHandler, PeerConnection, TorrentAdoption, TorrentBinding } from "../net/peer-connection.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import { exitCodeFor, type PeerErrorCode } from "../torrent/exit-codes.ts";
import { TorrentDhtLink } from "../torrent/torrent-dht.ts";
import { TrackerAnnouncer } from "../tracker/tracker-announcer.ts";
import type { TrackerStatus } from "../tracker/tracker-client.ts";
import { MetadataFetch } from "./metadata-fetch.ts";
import { arrivedMetainfo } from "./arrived-metainfo.ts";
import { MagnetSwarm, type PeersHandedOver } from "./magnet-swarm.ts";
import { MetadataServer } from "./metadata-server.ts";
import { noTrackerNoPeer } from "../torrent/no-peer.ts";
import { sha1, type SupplyRefusal, type SuppliedMetadata, suppliedRefusal, suppliedTiers } from "./supplied-metadata.ts";
import { type MagnetOptions, type MagnetOutcome, type MagnetState, NOTHING_YET, UNKNOWN_LEFT } from "./magnet-options.ts";

export type { MagnetHost, MagnetOptions, MagnetOutcome, MagnetSettings, MagnetState } from "./magnet-options.ts";

export class MagnetTorrent implements ConnectionHandler {
  readonly infoHash: Uint8Array;
  /** Its peers, addresses, bans and dials (magnet-swarm.ts). */
  private readonly swarm: MagnetSwarm;
  private readonly tracker: TrackerAnnouncer;
  /** The client's DHT, when it has one: a link with no tracker finds its peers there. */
  private readonly dht: TorrentDhtLink;
  private readonly fetch: MetadataFetch<SwarmPeer>;
  /** Nothing to serve yet: every ut_metadata request is rejected. */
  private readonly server = new MetadataServer(null);
  private readonly binding: TorrentBinding;
  private current: MagnetState = "metadata";
  /** Tracker tiers given since the start, in place of the link's. */
  private tiers: string[][] | null = null;
  readonly finished: Promise<MagnetOutcome>;
  private finish!: (outcome: MagnetOutcome) => void;

  constructor(private readonly options: MagnetOptions) {
    const { link, host } = options;
    this.infoHash = link.infoHash;
    this.dht = new TorrentDhtLink({ infoHash: link.infoHash, private: false }, host, {
      peersFound: (peers) => this.peersFound(peers),
      emit: (e) => this.emit(e),
      wantsPeers: () => this.swarm.peers.size === 0,
    });
    const dhtPort = () => this.dht.port();
    this.binding = { infoHash: link.infoHash, pieceCount: null, ourPieces: () => new Bitfield(0), extensions: { m: OUR_EXTENSIONS }, dhtPort };
    this.swarm = new MagnetSwarm({
      host,
      binding: this.binding,
      handler: this,
      maxPeers: options.maxPeers,
      dialing: () => this.current === "metadata",
      room: () => Math.min(this.options.maxPeers - this.connectionCount(), host.room()),
      emit: (e) => this.emit(e),
    });
    this.tracker = new TrackerAnnouncer(
      { infoHash: link.infoHash, announceList: link.trackers.map((t) => [t]) },
      host.peerId,
      {
        stats: () => ({ uploaded: 0, downloaded: 0, left: UNKNOWN_LEFT }),
        peersFound: (peers) => this.peersFound(peers),
        emit: (e) => this.emit(e),
        knowsPeers: () => this.knowsPeers(),
        fatal: (code, message) => this.fail(code, message),
      },
      () => host.announceScope(),
    );
    this.fetch = new MetadataFetch<SwarmPeer>(
      link.infoHash,
      {
        request: (peer, piece) => {
          const theirs = peer.conn.peerExtensions?.m.get(UT_METADATA);
          if (theirs !== undefined) peer.conn.send({ type: "extended", id: theirs, payload: encodeMetadataMessage({ kind: "request", piece }) });
        },
        verified: (infoBytes) => void this.promote(infoBytes, () => this.linkTiers(), [], "all"),
        failed: (senders, parole) => this.emit({ event: "metadata-failed", peers: senders.map((p) => p.label), parole }),
        ban: (peer, reason) => this.swarm.gate.ban(peer, reason),
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
    return this.swarm.peers.size;
  }

  private get live(): boolean {
    return this.current === "metadata" || this.current === "preparing";
  }

  start(): void {
    const { link } = this.options;
    for (const p of this.options.peers) this.swarm.directory.add(p);
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
    for (const p of peers) this.swarm.directory.add(p);
    this.connectMore();
  }

  /** Without a peer known, a tracker or a DHT that may still find one, the metadata cannot come. */
  private knowsPeers(): boolean {
    return this.swarm.directory.size > 0 || this.swarm.peers.size > 0 || this.dht.mayFindPeers();
  }

  /** The client's DHT came on (after this was added): look the info hash up there too. */
  dhtEnabled(): void {
    if (this.current === "metadata") this.dht.join();
  }

  /** The DHT's join found no node: with no other way to find a peer, the metadata phase ends. */
  peerSourcesChanged(): void {
    if (!this.dht.joined || this.current !== "metadata" || this.tracker.mayFindPeers() || this.knowsPeers()) return;
    this.fail("tracker-unreachable", noTrackerNoPeer("the magnet link"));
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
    this.swarm.closeAll();
    this.dht.leave();
    await this.tracker.stop();
  }

  private emit(event: TorrentEvent): void {
    this.options.onEvent(event);
  }

  connectionCount(): number {
    return this.swarm.connectionCount();
  }

  private connectMore(): void {
    if (this.current === "metadata") this.swarm.dialer.connectMore();
  }

  // ---- connections -------------------------------------------------------------------------------------

  adopt(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    if (this.current !== "metadata") return { code: "shutting-down" };
    return this.swarm.gate.admit(conn, handshake) ?? { torrent: this.binding, handler: this };
  }

  onHandshake(conn: PeerConnection, handshake: Handshake): CloseReason | null {
    return this.swarm.gate.admit(conn, handshake);
  }

  onMessage(conn: PeerConnection, message: WireMessage): void {
    const peer = this.swarm.peers.get(conn.id);
    if (!peer) return;
    this.swarm.admission.handled(conn, message);
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
    const { swarm } = this;
    swarm.admission.closed(conn, Date.now());
    const peer = swarm.peers.get(conn.id);
    if (peer) {
      swarm.peers.delete(conn.id);
      this.server.forget(conn);
      this.fetch.removeSource(peer);
    }
    if (conn.outgoing) {
      const failed = conn.closedFor === null || !peer || peerFailed(conn.closedFor);
      swarm.dialer.closed(conn, { failed, seed: false });
    }
    if (this.current === "metadata") queueMicrotask(() => this.connectMore());
  }

  // ---- the metadata is in ------------------------------------------------------------------------------

  /**
   * Metadata handed over while this still fetches it: used at once, as verified fetched metadata would be
   * (nothing more is fetched), with its trackers (supplied-metadata.ts) and web seeds. Null when taken.
   * A private torrent keeps none of the fetch's peers (BEP 27: its peers come from its own trackers alone;
   * the fetch's came from the link), only its bans.
   */
  supplyMetadata(supplied: SuppliedMetadata): SupplyRefusal | null {
    if (this.current !== "metadata") return { code: "not-fetching", message: `its metadata phase is over (${this.current})` };
    const refused = suppliedRefusal(supplied, this.infoHash);
    if (refused) return refused;
    const peers = supplied.private ? "bans-only" : "all";
    void this.promote(supplied.infoBytes, () => suppliedTiers(supplied, this.linkTiers()), supplied.urlList, peers);
    return null;
  }

  /** The link's trackers, each its own tier (as announced while fetching), or those setTrackers gave. */
  private linkTiers(): string[][] {
    return this.tiers ?? this.options.link.trackers.map((t) => [t]);
  }

  /** What each tracker of the link did last (views). */
  trackerStatus(): TrackerStatus[] {
    return this.tracker.status();
  }

  /**
   * Its trackers changed (the daemon's API): announced to from now on, and the .torrent its metadata makes has
   * them (read when it is made, after the `metadata` event). Once `prepare` has that .torrent, the list is
   * its caller's (the daemon's entry of the torrent): a change then is not this one's to keep.
   */
  setTrackers(tiers: string[][]): void {
    this.tiers = tiers;
    if (this.current === "metadata") this.tracker.setTrackers(tiers);
  }

  /**
   * `tiers`: the trackers the torrent goes on with, read only once the `metadata` event is out (its listeners
   * may change them); `peers`: what of the fetch's peers the torrent takes.
   */
  private async promote(infoBytes: Uint8Array, tiers: () => string[][], urlList: string[], peers: PeersHandedOver): Promise<void> {
    this.current = "preparing";
    this.emitProgress(metadataPieceCount(infoBytes.length));
    const arrived = arrivedMetainfo(infoBytes, tiers(), urlList);
    if ("code" in arrived) return this.fail(arrived.code, arrived.message);
    const { meta, torrentFile } = arrived;
    const prepared = await this.options.prepare(meta, torrentFile);
    if ("code" in prepared) return this.fail(prepared.code, prepared.message);
    if (this.current !== "preparing") {
      prepared.storage.close(); // stopped while storage was being opened
      return;
    }
    this.current = "promoted";
    this.tracker.abandon(); // the torrent announces from now on, with what is left
    this.dht.leave(); // and joins the DHT itself, unless the metadata says it is private
    const handover = { ...this.swarm.handover(peers), trackersTold: this.tracker.told() };
    this.finish({ torrent: this.options.host.promote(this, { ...prepared, handover }) });
  }

  // ---- timers ------------------------------------------------------------------------------------------

  /** The client's limits changed: nothing to pace here, the metadata phase moves no payload. */
  setRateLimits(): void {}

  /** Once a second, from the client's one timer. */
  tick(): void {
    if (!this.live) return;
    const now = Date.now();
    this.swarm.tick(now);
    if (this.current !== "metadata") return;
    this.fetch.tick(now);
    this.connectMore();
    this.emitProgress(null);
  }

  /** The fetch's progress, or once the metadata is in, all of its `pieces`. */
  private emitProgress(pieces: number | null): void {
    const { received, total } = pieces === null ? this.fetch.progress() : { received: pieces, total: pieces };
    this.emit({ event: "metadata", received, total, peers: this.swarm.peers.size, done: pieces !== null });
  }
}
