// The fast extension (BEP 6) as pure functions: its reserved bit, which messages belong to it, and the
// allowed fast set, the pieces a peer may fetch from us while we choke it. Which messages a connection
// sends and when is the peer's business (peer/net, peer/upload); this only says what the BEP defines.
import { sha1 } from "../sha1.ts";
import type { WireMessage } from "./types.ts";

/** Reserved byte 7, bit 0x04 of the handshake: "I speak the fast extension". */
export const FAST_BIT = { byte: 7, mask: 0x04 } as const;

/** BEP 6's suggested size of an allowed fast set. */
export const ALLOWED_FAST_COUNT = 10;

/** True when the handshake's reserved bytes say the peer speaks BEP 6. */
export function supportsFast(reserved: Uint8Array): boolean {
  return ((reserved[FAST_BIT.byte] ?? 0) & FAST_BIT.mask) !== 0;
}

export type FastMessage = Extract<WireMessage, { type: "suggest" | "have-all" | "have-none" | "reject" | "allowed-fast" }>;

/** The messages BEP 6 adds: sent only to, and accepted only from, a peer that set the fast bit too. */
export function isFastMessage(m: WireMessage): m is FastMessage {
  switch (m.type) {
    case "suggest":
    case "have-all":
    case "have-none":
    case "reject":
    case "allowed-fast":
      return true;
    default:
      return false;
  }
}

/**
 * BEP 6's allowed fast set of `count` distinct pieces for a peer at IPv4 address `ip` (4 bytes): SHA-1 of
 * the address's /24 and the info hash, then of each digest in turn, each 32-bit word of a digest naming
 * the piece `word % pieceCount`. Every piece when the torrent has no more than `count`. The peer computes
 * the same set, so the two sides agree without saying more than the indexes.
 */
export function allowedFastSet(ip: Uint8Array, infoHash: Uint8Array, pieceCount: number, count = ALLOWED_FAST_COUNT): number[] {
  if (ip.length !== 4) throw new RangeError("the allowed fast set is defined for IPv4 addresses only");
  if (pieceCount <= count) return Array.from({ length: pieceCount }, (_, i) => i);
  const seed = new Uint8Array(24);
  seed.set(ip.subarray(0, 3));
  seed.set(infoHash, 4);
  const set: number[] = [];
  let x: Uint8Array = seed;
  while (set.length < count) {
    x = sha1(x);
    for (let i = 0; i < 5 && set.length < count; i++) {
      const y = ((x[i * 4]! << 24) | (x[i * 4 + 1]! << 16) | (x[i * 4 + 2]! << 8) | x[i * 4 + 3]!) >>> 0;
      const index = y % pieceCount;
      if (!set.includes(index)) set.push(index);
    }
  }
  return set;
}
