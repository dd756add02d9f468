// A torrent's connections: dialing (swarm/dialer.ts), letting peers in (swarm/peer-gate.ts over the
// admission's slots), what their messages do (peer-messages.ts), what a closing connection leaves behind,
// and their share of the torrent's second (handshake deadlines, liveness, rechoke, pex). The torrent
// (torrent.ts) decides when any of it runs, by its lifecycle; this is the handler its connections report to.
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import { peerFailed, type CloseReason } from "../net/close-reason.ts";
import { OUR_EXTENSIONS, PRIVATE_EXTENSIONS } from "../net/extension-handshake.ts";
import { MetadataServer } from "../metadata/metadata-server.ts";
import { PeerConnection, type ConnectionHandler, type TorrentAdoption, type TorrentBinding } from "../net/peer-connection.ts";
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Downloader } from "../pieces/downloader.ts";
import { StorageError } from "../storage/errors.ts";
import { Admission } from "../swarm/admission.ts";
import { Dialer } from "../swarm/dialer.ts";
import { checkLiveness, expireHandshakes } from "../swarm/liveness.ts";
import { PeerDirectory } from "../swarm/peer-directory.ts";
import { PeerGate } from "../swarm/peer-gate.ts";
import { PeerExchange } from "../swarm/pex.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import { Choker, RECHOKE_INTERVAL_MS } from "../upload/choker.ts";
import type { Uploader } from "../upload/uploader.ts";
import type { TorrentEvent } from "./events.ts";
import type { Handover } from "./options.ts";
import { handlePeerMessage, rechoke, type PeerParts } from "./peer-messages.ts";

export interface TorrentPeersHooks {
  /** Downloading or seeding: dials go out and peers are taken. */
  live(): boolean;
  /** Our DHT node's port for handshakes and port messages; undefined without one. */
  dhtPort(): number | undefined;
  /** A peer's `port` message: the DHT node it names. */
  portMessage(ip: string, port: number): void;
  /** The disk failed while a peer's message was handled (full, unwritable): the torrent ends. */
  storageFailed(error: StorageError): void;
  emit(event: TorrentEvent): void;
}

/** What the torrent hands its connections: what they bind to and act on. */
export interface TorrentPeersParts {
  meta: Metainfo;
  have: Bitfield;
  host: TorrentHost;
  maxPeers: number;
  /** A magnet link's peer directory and bans, when the torrent follows one. */
  handover: Handover | undefined;
  /** The torrent's peers (its downloader reads them from the start). */
  peers: Map<number, SwarmPeer>;
  downloader: Downloader;
  uploader: Uploader;
}

/** What only connections use: made at the first dial or incoming peer, so a torrent nobody connects to holds none of it. */
interface Links {
  admission: Admission;
  gate: PeerGate;
  pex: PeerExchange;
  binding: TorrentBinding;
  dialer: Dialer;
  choker: Choker;
  parts: PeerParts;
  lastRechoke: number;
}

export class TorrentPeers implements ConnectionHandler {
  readonly peers: Map<number, SwarmPeer>;
  /** Made at the first address learned (or a magnet link's, handed over). */
  private dir: PeerDirectory | null;
  /** This torrent's peer slots (--max-peers; setMaxPeers changes it). */
  private cap: number;
  /** Null until something connects or there is someone to dial (a daemon's seeders mostly wait with none). */
  private links: Links | null = null;

  constructor(
    private readonly torrent: TorrentPeersParts,
    private readonly hooks: TorrentPeersHooks,
  ) {
    this.peers = torrent.peers;
    this.cap = torrent.maxPeers;
    this.dir = torrent.handover?.directory ?? null;
  }

  /** The addresses it knows, to dial. */
  get directory(): PeerDirectory {
    return (this.dir ??= new PeerDirectory());
  }

  /** How many addresses it knows. */
  knownPeerCount(): number {
    return this.dir?.size ?? 0;
  }

  /** How many addresses a seeder would still dial (PeerDirectory.worthDialling). */
  seederWouldDial(): number {
    return this.dir?.worthDialling(true) ?? 0;
  }

  /** Our dials until their handshake, and the slot policy (incoming connections reach us admitted by the client). */
  get admission(): Admission {
    return this.linked().admission;
  }

  /** Who may be a peer (bans, duplicates, then the admission's slots). */
  get gate(): PeerGate {
    return this.linked().gate;
  }

  /** ut_pex (BEP 11), off for a private torrent. */
  get pex(): PeerExchange {
    return this.linked().pex;
  }

  /** What connections to this torrent are bound to. */
  get binding(): TorrentBinding {
    return this.linked().binding;
  }

  private linked(): Links {
    return (this.links ??= this.link());
  }

  private link(): Links {
    const { meta, have, host, handover, downloader, uploader } = this.torrent;
    const hooks = this.hooks;
    // We serve our info dictionary (ut_metadata): its size goes in the first extension handshake.
    const extensions = { m: meta.private ? PRIVATE_EXTENSIONS : OUR_EXTENSIONS, metadataSize: meta.infoBytes.length };
    const binding: TorrentBinding = { infoHash: meta.infoHash, pieceCount: meta.pieceCount, ourPieces: () => have, dhtPort: () => hooks.dhtPort(), extensions };
    const pex = new PeerExchange(!meta.private, this.directory, {
      ourPort: () => host.port,
      learned: (from, added) => {
        hooks.emit({ event: "peers-learned", source: "pex", peer: from.label, added: added.length });
        this.connectMore();
      },
    });
    const admission = new Admission(this.cap, this.peers);
    const gate = new PeerGate(this.peers, this.directory, handover?.bannedPeerIds ?? new Set(), admission, (e) => hooks.emit(e));
    const dialer = new Dialer(
      this.directory,
      {
        room: () => Math.min(this.cap - this.connectionCount(), host.room()),
        seeding: () => downloader.complete,
        live: () => hooks.live(),
        open: (socket, address, encryption) => {
          if (!hooks.live()) return null;
          const options = { ourPeerId: host.peerId, listenPort: host.port, outgoing: true, address, encryption, torrent: binding };
          const conn = new PeerConnection(socket, options, this);
          admission.opened(conn);
          return conn;
        },
      },
      { infoHash: meta.infoHash, encryption: host.encryption, bind: host.bind, mseLimits: host.mseLimits },
    );
    const choker = new Choker();
    const metadata = new MetadataServer(meta.infoBytes);
    const parts = { peers: this.peers, downloader, uploader, choker, pex, metadata };
    return { admission, gate, pex, binding, dialer, choker, parts, lastRechoke: 0 };
  }

  get maxPeers(): number {
    return this.cap;
  }

  /** Above the new cap, peers with nothing to trade go first. */
  setMaxPeers(n: number): void {
    this.cap = n;
    this.links?.admission.setCapacity(n); // made later, it starts at the new cap
    this.connectMore();
  }

  /** Connections this torrent holds: its peers and its dials still handshaking. */
  connectionCount(): number {
    return this.peers.size + (this.links?.admission.ownHandshakes() ?? 0);
  }

  /** Connections still handshaking (ours and incoming). */
  handshakingCount(): number {
    return this.links?.admission.handshaking.size ?? 0;
  }

  connectMore(): void {
    if (!this.hooks.live() || (this.links === null && this.knownPeerCount() === 0)) return;
    this.linked().dialer.connectMore();
  }

  /** Stops dialing and closes every connection (pause, re-check, stop). */
  closeAll(): void {
    const links = this.links;
    if (!links) return; // nothing ever connected
    links.dialer.quiet();
    for (const conn of [...links.admission.handshaking]) conn.close({ code: "shutting-down" });
    for (const peer of [...this.peers.values()]) peer.conn.close({ code: "shutting-down" });
  }

  /** A piece is written: every open peer hears `have` (only after the write: a peer may ask for it at once), and one with nothing more for us `not-interested`. */
  announceHave(index: number): void {
    for (const peer of this.peers.values()) {
      if (peer.conn.state !== "open") continue;
      peer.conn.send({ type: "have", index });
      if (peer.conn.amInterested && !this.torrent.downloader.picker.wants(peer)) peer.conn.send({ type: "not-interested" });
    }
  }

  /** We became a seed: seeds have nothing for us now. */
  closeSeeds(): void {
    for (const peer of [...this.peers.values()]) if (peer.conn.peerPieces.isComplete()) peer.conn.close({ code: "both-complete" });
  }

  /** An incoming connection whose handshake named this torrent (routed by the client). */
  adopt(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    if (!this.hooks.live()) return { code: "shutting-down" };
    return this.gate.admit(conn, handshake) ?? { torrent: this.binding, handler: this };
  }

  /** The handshake of one of our dials. */
  onHandshake(conn: PeerConnection, handshake: Handshake): CloseReason | null {
    return this.gate.admit(conn, handshake);
  }

  /** A peer of the magnet link's metadata phase: bound again to this torrent's piece count, then a peer like any other. */
  takeOver(peer: SwarmPeer): void {
    const conn = peer.conn;
    if (conn.isClosed()) return;
    const problem = conn.rebind({ torrent: this.binding, handler: this }) ?? this.admission.admit(conn, Date.now());
    if (problem) return conn.close(problem);
    this.peers.set(conn.id, peer);
    this.torrent.downloader.bitfieldReceived(peer, null);
    if (conn.peerExtensions) this.pex.handshake(peer); // its extension handshake came in the metadata phase
    if (!conn.peerChoking) this.torrent.downloader.fill(peer);
  }

  onMessage(conn: PeerConnection, message: WireMessage): void {
    const peer = this.peers.get(conn.id);
    if (!peer) return;
    if (message.type === "port") this.hooks.portMessage(conn.address.ip, message.port);
    try {
      handlePeerMessage(this.linked().parts, peer, message);
      this.admission.handled(conn, message);
    } catch (error) {
      // Disk trouble (full, unwritable) ends the torrent with a clear line; anything else is a bug.
      if (!(error instanceof StorageError)) throw error;
      this.hooks.storageFailed(error);
    }
  }

  blockSink(conn: PeerConnection, index: number, begin: number, length: number) {
    const peer = this.peers.get(conn.id);
    return peer ? this.torrent.downloader.blockSink(peer, index, begin, length) : null;
  }

  onDrain(conn: PeerConnection): void {
    const peer = this.peers.get(conn.id);
    if (peer) this.torrent.uploader.serve(peer);
  }

  onClose(conn: PeerConnection, _reason: string): void {
    const links = this.linked();
    links.admission.closed(conn, Date.now());
    const peer = this.peers.get(conn.id);
    if (peer) {
      this.peers.delete(conn.id);
      this.torrent.downloader.peerRemoved(peer);
      this.torrent.uploader.peerRemoved(peer);
      links.choker.forget(conn.id);
      links.pex.forget(conn.id);
      links.parts.metadata.forget(conn);
    }
    if (conn.closedFor?.code === "self") this.directory.markSelf(conn.address);
    if (conn.outgoing) {
      const failed = conn.closedFor === null || !peer || peerFailed(conn.closedFor);
      links.dialer.closed(conn, { failed, seed: conn.peerPieces.isComplete() });
    }
    if (this.hooks.live()) queueMicrotask(() => this.connectMore());
  }

  /** Handshake deadlines, silent peers, provisional slots, and the rechoke when due. */
  tick(now: number): void {
    const links = this.links;
    if (!links) return; // no connection ever: nothing to time out, check or rechoke
    expireHandshakes(links.admission.handshaking, now);
    checkLiveness(this.peers.values(), now);
    links.admission.tick(now);
    if (now - links.lastRechoke >= RECHOKE_INTERVAL_MS) {
      links.lastRechoke = now;
      rechoke(links.parts, this.torrent.downloader.complete, now);
    }
  }

  /** ut_pex's share of the torrent's second. */
  pexTick(now: number): void {
    this.links?.pex.tick(now, [...this.peers.values()]);
  }
}
