// Connection liveness, checked once a tick: peers that never finish the handshake, fall silent, or sit on
// our requests without sending a block are dropped; a connection we have been quiet on gets a keep-alive.
import type { PeerConnection } from "../net/peer-connection.ts";
import type { SwarmPeer } from "./swarm-peer.ts";

// Short: a handshaking connection holds no peer slot, but a peer that means it answers within a round trip.
const HANDSHAKE_TIMEOUT_MS = 5_000;
const SILENT_TIMEOUT_MS = 120_000;
const STALL_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_MS = 60_000;

/** Closes the connections whose handshake is overdue (the client's incoming ones, a torrent's dials). */
export function expireHandshakes(handshaking: Iterable<PeerConnection>, now: number): void {
  for (const conn of [...handshaking]) if (now - conn.connectedAt > HANDSHAKE_TIMEOUT_MS) conn.close({ code: "timeout", which: "handshake" });
}

/** Closes the peers that timed out and keeps the quiet ones alive. Safe while closing mutates the collection. */
export function checkLiveness(peers: Iterable<SwarmPeer>, now: number): void {
  for (const peer of [...peers]) {
    const conn = peer.conn;
    if (now - conn.lastReceivedAt > SILENT_TIMEOUT_MS) {
      conn.close({ code: "timeout", which: "silent" });
      continue;
    }
    if (peer.outstanding.size > 0 && now - conn.lastBlockAt > STALL_TIMEOUT_MS) {
      conn.close({ code: "timeout", which: "stalled" }); // requests go back to the picker for other peers
      continue;
    }
    if (now - conn.lastSentAt > KEEP_ALIVE_MS) conn.send({ type: "keep-alive" });
  }
}
