// What a fast peer's (BEP 6) answers to our requests do, apart from blocks: a `reject` gives the block back
// for the other peers, and is taken, like a block, only for a request outstanding with that very peer (or
// one we gave up on); an `allowed fast` piece is one it serves while it chokes us (kept, bounded).
import type { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { PiecePicker } from "./picker.ts";

/** Allowed fast pieces kept per peer; BEP 6 suggests sets of 10, libtorrent grants 5. */
export const MAX_ALLOWED_FAST = 32;

/** The downloader's side of it. */
export interface AnswerHost {
  readonly picker: PiecePicker<unknown>;
  /** Tops up every peer's pipeline but `peer`'s. */
  fillOthers(peer: SwarmPeer): void;
  /** Counts an answer nobody asked for against the peer (a late one we gave up on is fine). */
  unrequested(peer: SwarmPeer, key: number): void;
}

/**
 * The peer will not serve this request: its blocks go back to the picker for the other peers (a long
 * request, requests.ts, is rejected whole). They are asked of this one again at the next tick at the
 * soonest, so a peer that rejects everything costs a round a second.
 */
export function rejectReceived(host: AnswerHost, peer: SwarmPeer, index: number, begin: number, length: number): void {
  const key = host.picker.keyAt(index, begin);
  if (key < 0) return host.unrequested(peer, key);
  const blocks = Math.ceil(length / BLOCK_SIZE);
  const progress = host.picker.inProgress.get(index);
  if (progress && peer.outstanding.has(key)) {
    const first = begin / BLOCK_SIZE;
    let asked = 0;
    for (let b = first; b < first + blocks && b < progress.blockCount; b++) asked += progress.blockLength(b);
    if (length !== asked) return peer.conn.close({ code: "protocol", detail: `reject of ${index}:${begin} for ${length} bytes, not a request we made` });
  }
  let given = 0;
  for (let b = 0; b < blocks; b++) {
    if (peer.outstanding.delete(key + b)) {
      host.picker.requestLost(key + b);
      given++;
    } else host.unrequested(peer, key + b); // a block given up meanwhile (end game) is fine, like a late block
  }
  if (given === 0) return;
  if (peer.conn.peerChoking) peer.allowedFast.delete(index); // it will not serve that piece while choking us after all
  host.fillOthers(peer);
}

/** Keeps `index` as one the peer serves while choking us; true when it is new (and worth asking for). */
export function allowedFastReceived(peer: SwarmPeer, index: number, have: Bitfield): boolean {
  if (peer.allowedFast.size >= MAX_ALLOWED_FAST || have.has(index) || peer.allowedFast.has(index)) return false;
  peer.allowedFast.add(index);
  return true;
}
