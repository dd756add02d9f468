// Who may become a peer of a swarm and who is kept out: a handshake's peer is refused when banned (by peer
// id or IP) or already connected under the same peer id, then the slot policy (admission.ts) decides; a ban
// keeps the peer's IP out of the swarm and drops every connection from it. A Torrent and a magnet link's
// MagnetTorrent gate their peers alike (and the first hands its bans on to the second).
import { toHex } from "../../shared/bytes.ts";
import type { Handshake } from "../../shared/wire/types.ts";
import type { CloseReason } from "../net/close-reason.ts";
import type { ConnectionEncryption } from "../net/connection-types.ts";
import { MAX_QUEUED_REQUESTS } from "../net/extension-handshake.ts";
import type { PeerConnection } from "../net/peer-connection.ts";
import type { Admission } from "./admission.ts";
import type { PeerDirectory } from "./peer-directory.ts";
import { SwarmPeer } from "./swarm-peer.ts";

/** What the gate reports (the swarm's owner passes them on as its own events). */
export type PeerGateEvent =
  | { event: "peer-connected"; peer: string; outgoing: boolean; encryption: ConnectionEncryption }
  | { event: "peer-banned"; peer: string; reason: string };

export class PeerGate {
  constructor(
    /** The swarm's peers, by connection id: the gate adds those it lets in. */
    private readonly peers: Map<number, SwarmPeer>,
    private readonly directory: PeerDirectory,
    private readonly bannedPeerIds: Set<string>,
    private readonly admission: Admission,
    private readonly emit: (event: PeerGateEvent) => void,
  ) {}

  /** Takes the peer in (a member, or provisionally above the swarm's peer cap), or says why not. */
  admit(conn: PeerConnection, handshake: Handshake): CloseReason | null {
    const id = toHex(handshake.peerId);
    if (this.bannedPeerIds.has(id) || this.directory.isBanned(conn.address.ip)) return { code: "banned" };
    for (const peer of this.peers.values()) if (peer.conn.remotePeerId && toHex(peer.conn.remotePeerId) === id) return { code: "duplicate" };
    const refusal = this.admission.admit(conn, Date.now());
    if (refusal) return refusal;
    const peer = new SwarmPeer(conn, MAX_QUEUED_REQUESTS);
    this.peers.set(conn.id, peer);
    this.emit({ event: "peer-connected", peer: peer.label, outgoing: conn.outgoing, encryption: conn.encryption });
    return null;
  }

  /** Bans the peer's IP for the swarm (its port and peer id cost nothing to change) and drops every connection from it. */
  ban(peer: SwarmPeer, reason: string): void {
    if (peer.conn.remotePeerId) this.bannedPeerIds.add(toHex(peer.conn.remotePeerId));
    const ip = peer.conn.address.ip;
    if (this.directory.isBanned(ip)) return;
    this.directory.ban(ip);
    this.emit({ event: "peer-banned", peer: peer.label, reason });
    for (const conn of [...this.admission.handshaking, ...[...this.peers.values()].map((p) => p.conn)]) {
      if (this.directory.isBanned(conn.address.ip)) conn.close({ code: "banned", detail: reason });
    }
  }
}
