// A torrent's connections from TCP up to a peer slot: those still handshaking (incoming ones capped, the
// oldest dropped for a newcomer), then the slot policy of connection-slots.ts once the handshake is in.
// The torrent owns the SwarmPeers; this decides which connections may hold one and closes the others.
import type { WireMessage } from "../../shared/wire/types.ts";
import type { CloseReason } from "../net/close-reason.ts";
import type { PeerConnection } from "../net/peer-connection.ts";
import { ConnectionSlots, handshakeToDrop, slotLimits, type SlotChange } from "./connection-slots.ts";
import type { SwarmPeer } from "./swarm-peer.ts";

export class Admission {
  readonly handshaking = new Set<PeerConnection>();
  private readonly slots: ConnectionSlots;

  constructor(
    maxPeers: number,
    private readonly peers: ReadonlyMap<number, SwarmPeer>,
  ) {
    // A peer has something to trade with us while it wants our pieces or we want its.
    this.slots = new ConnectionSlots(slotLimits(maxPeers), (id) => {
      const conn = this.peers.get(id)?.conn;
      return conn !== undefined && (conn.peerInterested || conn.amInterested);
    });
  }

  /** A new --max-peers at run time: peers above it are closed, those with nothing to trade first. */
  setCapacity(maxPeers: number): void {
    this.slots.limits = slotLimits(maxPeers);
    const idle = (p: SwarmPeer) => !p.conn.peerInterested && !p.conn.amInterested;
    const peers = [...this.peers.values()].sort((a, b) => Number(idle(b)) - Number(idle(a)));
    for (const peer of peers.slice(0, Math.max(0, peers.length - maxPeers))) peer.conn.close({ code: "too-many-peers" });
  }

  /** TCP is up, the handshake not yet in. Handshakes hold no peer slot; past their own cap the oldest incoming one makes room. */
  opened(conn: PeerConnection): void {
    if (!conn.outgoing) handshakeToDrop(this.handshaking, this.slots.limits.handshakes)?.close({ code: "too-many-handshakes" });
    this.handshaking.add(conn);
  }

  /** Our own dials still handshaking: they count against the room to dial more. */
  ownHandshakes(): number {
    let n = 0;
    for (const conn of this.handshaking) if (conn.outgoing) n++;
    return n;
  }

  /** The handshake is in: a reason to refuse it, or null once it holds a slot or waits above the cap. */
  admit(conn: PeerConnection, now: number): CloseReason | null {
    const admission = this.slots.admit(conn.id, now);
    if (admission.state === "refused") return { code: "too-many-peers" };
    this.handshaking.delete(conn);
    if (admission.state === "provisional" && admission.displaced !== null) this.peers.get(admission.displaced)?.conn.close({ code: "too-many-peers" });
    return null;
  }

  /** After the torrent handled `message` from an admitted peer. */
  handled(conn: PeerConnection, message: WireMessage): void {
    if (message.type === "keep-alive") return; // silence is measured without them
    this.slots.active(conn.id, conn.lastReceivedAt);
    // A peer let in above the cap may have just shown it is worth a slot.
    if (this.slots.stateOf(conn.id) === "provisional") this.apply(this.slots.review(conn.lastReceivedAt));
  }

  closed(conn: PeerConnection, now: number): void {
    this.handshaking.delete(conn);
    this.slots.release(conn.id, now); // a provisional peer, if any, takes the slot
  }

  /** Once a tick: replacements that became possible, and provisional peers whose grace ended. */
  tick(now: number): void {
    this.apply(this.slots.review(now));
  }

  /** Closes the members replaced by more useful peers and the provisional peers that found no slot. */
  private apply(changes: SlotChange[]): void {
    for (const change of changes) {
      if (change.kind === "replaced") this.peers.get(change.evicted)?.conn.close({ code: "replaced" });
      else this.peers.get(change.id)?.conn.close({ code: "too-many-peers" });
    }
  }
}
