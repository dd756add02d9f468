// The client's incoming connections until their handshake names a torrent: first an Incoming (plain
// BitTorrent or MSE by the first bytes, incoming.ts), then a PeerConnection awaiting the peer's handshake,
// with this as its handler. The handshake routes it by info hash to the torrent that adopts it; an info
// hash we do not serve closes it unanswered. Handshakes hold no peer slot: they have their own cap (the
// oldest makes room) and deadline.
import { toHex } from "../../shared/bytes.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { SkeyTable } from "../../shared/mse/keys.ts";
import type { Handshake } from "../../shared/wire/types.ts";
import type { CloseReason } from "../net/close-reason.ts";
import { PeerConnection, type ConnectionEncryption, type ConnectionHandler, type ConnectionSocket, type TorrentAdoption } from "../net/peer-connection.ts";
import type { PeerSocket, SocketSink } from "../net/sockets.ts";
import { handshakeToDrop, type SlotLimits } from "../swarm/connection-slots.ts";
import { expireHandshakes } from "../swarm/liveness.ts";
import { Incoming, SNIFF_TIMEOUT_MS } from "./incoming.ts";
import type { TorrentHost } from "./torrent-host.ts";

/** What routing an incoming connection reads of the client (its own public members). */
export type IncomingHost = Pick<TorrentHost, "peerId" | "port" | "encryption" | "mseLimits" | "room">;

/** A torrent of ours, as far as routing a connection to it goes (a Torrent, a MagnetTorrent). */
export interface AdoptingTorrent {
  adopt(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption;
}

/** What routing an incoming connection asks of the client's own bookkeeping. */
export interface IncomingRoutes {
  /** What an MSE receiver finds our torrents by. */
  readonly skeys: SkeyTable;
  /** False once the client stops: what is still arriving is refused. */
  listening(): boolean;
  /** The connection limit across torrents: its cap on handshakes, and how far provisional peers may go above it. */
  slots(): SlotLimits;
  /** True when `key` (hex info hash) names a torrent of ours, running or dormant. */
  serves(key: string): boolean;
  /** The running torrent for `key` (or magnet link), a dormant one woken, or null. */
  torrentFor(key: string): AdoptingTorrent | null;
  /** An incoming connection was dropped before any torrent took it. */
  dropped(address: PeerAddress, reason: CloseReason): void;
}

export class IncomingConnections implements ConnectionHandler {
  /** Not yet a PeerConnection: telling plain BitTorrent from MSE, or in the MSE handshake. */
  private readonly incoming = new Set<Incoming>();
  /** Connections whose handshake has not named a torrent yet. */
  private readonly handshaking = new Set<PeerConnection>();

  constructor(
    private readonly host: IncomingHost,
    private readonly routes: IncomingRoutes,
  ) {}

  /** Incoming connections no torrent has taken yet: sniffed, in the MSE handshake, or awaiting the BitTorrent one. */
  get count(): number {
    return this.incoming.size + this.handshaking.size;
  }

  accept(socket: PeerSocket, address: PeerAddress): SocketSink | null {
    if (!this.routes.listening()) return null;
    // Handshakes (MSE ones too: each costs a DH exponentiation) hold no peer slot (connection-slots.ts);
    // past their own cap the oldest makes room.
    handshakeToDrop([...this.incoming, ...this.handshaking], this.routes.slots().handshakes)?.close({ code: "too-many-handshakes" });
    const incoming = new Incoming(socket, address, {
      policy: this.host.encryption,
      skeys: this.routes.skeys,
      mseLimits: this.host.mseLimits,
      connection: (i, s, encryption) => this.connection(i, s, encryption),
      dropped: (i, reason) => {
        this.incoming.delete(i);
        this.routes.dropped(i.address, reason);
      },
    });
    this.incoming.add(incoming);
    return incoming;
  }

  /** The incoming connection's protocol is settled (and its MSE handshake done): its BitTorrent handshake comes next. */
  private connection(incoming: Incoming, socket: ConnectionSocket, encryption: ConnectionEncryption): PeerConnection | null {
    this.incoming.delete(incoming);
    if (!this.routes.listening()) return null;
    const { peerId, port } = this.host;
    const conn = new PeerConnection(socket, { ourPeerId: peerId, listenPort: port, outgoing: false, address: incoming.address, encryption }, this);
    this.handshaking.add(conn);
    return conn;
  }

  /** Past their deadlines: sniffing (SNIFF_TIMEOUT_MS), or awaiting the BitTorrent handshake (liveness.ts). */
  expire(now: number): void {
    for (const i of [...this.incoming]) if (i.stage === "sniffing" && now - i.connectedAt > SNIFF_TIMEOUT_MS) i.close({ code: "timeout", which: "handshake" });
    expireHandshakes(this.handshaking, now);
  }

  closeAll(): void {
    for (const conn of [...this.incoming, ...this.handshaking]) conn.close({ code: "shutting-down" });
  }

  /** Routes the connection to the torrent its handshake names; an info hash we do not serve is dropped. */
  onHandshake(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    this.handshaking.delete(conn);
    const key = toHex(handshake.infoHash);
    if (!this.routes.serves(key)) return { code: "unknown-torrent" };
    if (this.host.room() <= -this.routes.slots().provisional) return { code: "too-many-peers" };
    const torrent = this.routes.torrentFor(key);
    return torrent ? torrent.adopt(conn, handshake) : { code: "unknown-torrent" };
  }

  onMessage(): void {
    // The handshake hands every connection we keep to its torrent before any message is decoded.
    throw new Error("Client: a message on a connection that has no torrent");
  }

  onDrain(): void {}

  /** Only connections no torrent took close with us as their handler. */
  onClose(conn: PeerConnection): void {
    this.handshaking.delete(conn);
    if (conn.closedFor) this.routes.dropped(conn.address, conn.closedFor);
  }
}
