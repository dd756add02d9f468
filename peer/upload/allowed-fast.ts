// BEP 6's allowed fast set, our side: the few pieces a peer that speaks the fast extension may fetch from
// us while we choke it, so a newcomer gets something to trade before it is ever unchoked. Granted once,
// when the peer first says it is interested (as libtorrent does: a peer that wants nothing costs nothing),
// and told only for pieces we have and it lacks; the set itself is BEP 6's, from the peer's IPv4 address.
import type { Bitfield } from "../../shared/bitfield.ts";
import { parseIPv4 } from "../../shared/compact.ts";
import { allowedFastSet } from "../../shared/wire/fast.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";

const NONE: ReadonlySet<number> = new Set();

/** Grants `peer` its allowed fast set (once) and tells it the pieces of the set it can fetch. */
export function grantAllowedFast(peer: SwarmPeer, infoHash: Uint8Array, have: Bitfield): void {
  const conn = peer.conn;
  if (!conn.fast || peer.granted !== null) return;
  const ip = parseIPv4(conn.address.ip);
  // BEP 6 defines the set for IPv4 only: an IPv6 peer waits for an unchoke like any other.
  if (!ip) {
    peer.granted = NONE;
    return;
  }
  const set = allowedFastSet(ip, infoHash, have.pieceCount);
  peer.granted = new Set(set);
  for (const index of set) if (have.has(index) && !conn.peerPieces.has(index)) conn.send({ type: "allowed-fast", index });
}

/** True when `peer` may have `index` served while we choke it. */
export function servedWhileChoked(peer: SwarmPeer, index: number): boolean {
  return peer.granted?.has(index) ?? false;
}
