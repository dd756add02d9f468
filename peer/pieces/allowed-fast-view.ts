// A peer that chokes us, as the picker sees it when it speaks the fast extension (BEP 6): holding only the
// pieces it lets us fetch anyway (its allowed fast set), so requests to it go to those pieces alone.
import { Bitfield } from "../../shared/bitfield.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { PickerPeer } from "./picker.ts";

/** The choked peer narrowed to its allowed fast pieces that it has; null when there are none. */
export function allowedFastView(peer: SwarmPeer): PickerPeer | null {
  if (!peer.conn.fast || peer.allowedFast.size === 0) return null;
  const pieces = new Bitfield(peer.peerPieces.pieceCount);
  for (const index of peer.allowedFast) if (peer.peerPieces.has(index)) pieces.set(index);
  // Same id and request set: what is asked of it is recorded against the peer itself.
  return pieces.count() === 0 ? null : { id: peer.id, outstanding: peer.outstanding, peerPieces: pieces };
}
