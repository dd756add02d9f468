// A torrent's connections: dialing (swarm/dialer.ts), letting peers in (swarm/peer-gate.ts over the
// admission's slots), what their messages do (peer-messages.ts), what a closing connection leaves behind,
// and their share of the torrent's second (handshake deadlines, liveness, rechoke, pex). The torrent
// (torrent.ts) decides when any of it runs, by its lifecycle; this is the handler its connections report to.
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentHost } from "../client/client.ts";
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
  dhtPort: TorrentBinding["dhtPort"];
}

export class TorrentPeers implements ConnectionHandler {
  readonly peers: Map<number, SwarmPeer>;
  readonly directory: PeerDirectory;
  /** Our dials until their handshake, and the slot policy (incoming connections reach us admitted by the client). */
  readonly admission: Admission;
  /** Who may be a peer (bans, duplicates, then the admission's slots). */
  readonly gate: PeerGate;
  /** ut_pex (BEP 11), off for a private torrent. */
  readonly pex: PeerExchange;
  /** What connections to this torrent are bound to. */
  readonly binding: TorrentBinding;
  private readonly dialer: Dialer;
  private readonly choker = new Choker();
  /** What peers' messages act on (peer-messages.ts). */
  private readonly parts: PeerParts;
  /** This torrent's peer slots (--max-peers; setMaxPeers changes it). */
  private cap: number;
  private lastRechoke = 0;

  private readonly downloader: Downloader;
  private readonly uploader: Uploader;

  constructor(
    { meta, have, host, maxPeers, handover, peers, downloader, uploader, dhtPort }: TorrentPeersParts,
    private readonly hooks: TorrentPeersHooks,
  ) {
    this.peers = peers;
    this.downloader = downloader;
    this.uploader = uploader;
    this.cap = maxPeers;
    this.directory = handover?.directory ?? new PeerDirectory();
    // We serve our info dictionary (ut_metadata): its size goes in the first extension handshake.
    const extensions = { m: meta.private ? PRIVATE_EXTENSIONS : OUR_EXTENSIONS, metadataSize: meta.infoBytes.length };
    this.binding = { infoHash: meta.infoHash, pieceCount: meta.pieceCount, ourPieces: () => have, dhtPort, extensions };
    this.pex = new PeerExchange(!meta.private, this.directory, {
      ourPort: () => host.port,
      learned: (from, added) => {
        hooks.emit({ event: "peers-learned", source: "pex", peer: from.label, added: added.length });
        this.connectMore();
      },
    });
    this.admission = new Admission(maxPeers, this.peers);
    this.gate = new PeerGate(this.peers, this.directory, handover?.bannedPeerIds ?? new Set(), this.admission, (e) => hooks.emit(e));
    this.dialer = new Dialer(
      this.directory,
      {
        room: () => Math.min(this.cap - this.connectionCount(), host.room()),
        seeding: () => downloader.complete,
        live: () => hooks.live(),
        open: (socket, address, encryption) => {
          if (!hooks.live()) return null;
          const options = { ourPeerId: host.peerId, listenPort: host.port, outgoing: true, address, encryption, torrent: this.binding };
          const conn = new PeerConnection(socket, options, this);
          this.admission.opened(conn);
          return conn;
        },
      },
      { infoHash: meta.infoHash, encryption: host.encryption, bind: host.bind, mseLimits: host.mseLimits },
    );
    const metadata = new MetadataServer(meta.infoBytes);
    this.parts = { peers: this.peers, downloader, uploader, choker: this.choker, pex: this.pex, metadata };
  }

  get maxPeers(): number {
    return this.cap;
  }

  /** Above the new cap, peers with nothing to trade go first. */
  setMaxPeers(n: number): void {
    this.cap = n;
    this.admission.setCapacity(n);
    this.connectMore();
  }

  /** Connections this torrent holds: its peers and its dials still handshaking. */
  connectionCount(): number {
    return this.peers.size + this.admission.ownHandshakes();
  }

  connectMore(): void {
    if (this.hooks.live()) this.dialer.connectMore();
  }

  /** Stops dialing and closes every connection (pause, re-check, stop). */
  closeAll(): void {
    this.dialer.quiet();
    for (const conn of [...this.admission.handshaking]) conn.close({ code: "shutting-down" });
    for (const peer of [...this.peers.values()]) peer.conn.close({ code: "shutting-down" });
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
    this.downloader.bitfieldReceived(peer, null);
    if (conn.peerExtensions) this.pex.handshake(peer); // its extension handshake came in the metadata phase
    if (!conn.peerChoking) this.downloader.fill(peer);
  }

  onMessage(conn: PeerConnection, message: WireMessage): void {
    const peer = this.peers.get(conn.id);
    if (!peer) return;
    if (message.type === "port") this.hooks.portMessage(conn.address.ip, message.port);
    try {
      handlePeerMessage(this.parts, peer, message);
      this.admission.handled(conn, message);
    } catch (error) {
      // Disk trouble (full, unwritable) ends the torrent with a clear line; anything else is a bug.
      if (!(error instanceof StorageError)) throw error;
      this.hooks.storageFailed(error);
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
      this.pex.forget(conn.id);
      this.parts.metadata.forget(conn);
    }
    if (conn.closedFor?.code === "self") this.directory.markSelf(conn.address);
    if (conn.outgoing) {
      const failed = conn.closedFor === null || !peer || peerFailed(conn.closedFor);
      this.dialer.closed(conn, { failed, seed: conn.peerPieces.isComplete() });
    }
    if (this.hooks.live()) queueMicrotask(() => this.connectMore());
  }

  /** Handshake deadlines, silent peers, provisional slots, and the rechoke when due. */
  tick(now: number): void {
    expireHandshakes(this.admission.handshaking, now);
    checkLiveness(this.peers.values(), now);
    this.admission.tick(now);
    if (now - this.lastRechoke >= RECHOKE_INTERVAL_MS) {
      this.lastRechoke = now;
      rechoke(this.parts, this.downloader.complete, now);
    }
  }
}
