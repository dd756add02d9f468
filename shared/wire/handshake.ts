// The BEP 3 handshake: <19><"BitTorrent protocol"><8 reserved><20 info hash><20 peer id> = 68 bytes.
import type { Decoded } from "./frame.ts";
import type { Handshake } from "./types.ts";
import { WireError } from "./errors.ts";

export const PROTOCOL = "BitTorrent protocol";
export const HANDSHAKE_LENGTH = 68;

const PROTOCOL_BYTES = Uint8Array.from(PROTOCOL, (c) => c.charCodeAt(0));

/** Reserved byte 7, bit 0x01: "I run a DHT node" (BEP 5); such a peer is sent our `port` message. */
export const DHT_BIT = { byte: 7, mask: 0x01 } as const;

export function supportsDht(reserved: Uint8Array): boolean {
  return ((reserved[DHT_BIT.byte] ?? 0) & DHT_BIT.mask) !== 0;
}

/**
 * Decodes a handshake at `offset`. Rejects a wrong protocol string as soon as its first differing byte
 * arrives, so a non-BitTorrent peer is dropped without waiting for 68 bytes. The ids are copies.
 */
export function decodeHandshake(bytes: Uint8Array, offset: number): Decoded<Handshake> {
  const available = bytes.length - offset;
  const protocolEnd = Math.min(available, 1 + PROTOCOL_BYTES.length);
  if (available > 0 && bytes[offset] !== PROTOCOL_BYTES.length) {
    throw new WireError("bad-protocol", `handshake protocol length is ${bytes[offset]}, expected 19 ("${PROTOCOL}")`);
  }
  for (let i = 1; i < protocolEnd; i++) {
    if (bytes[offset + i] !== PROTOCOL_BYTES[i - 1]) {
      throw new WireError("bad-protocol", `handshake protocol is not "${PROTOCOL}"`);
    }
  }
  if (available < HANDSHAKE_LENGTH) return { need: HANDSHAKE_LENGTH - available };
  const at = offset + 20;
  return {
    value: {
      reserved: bytes.slice(at, at + 8),
      infoHash: bytes.slice(at + 8, at + 28),
      peerId: bytes.slice(at + 28, at + 48),
    },
    size: HANDSHAKE_LENGTH,
  };
}

export function encodeHandshake(h: Handshake): Uint8Array {
  if (h.reserved.length !== 8 || h.infoHash.length !== 20 || h.peerId.length !== 20) {
    throw new RangeError("handshake needs 8 reserved bytes, a 20-byte info hash and a 20-byte peer id");
  }
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out[0] = PROTOCOL_BYTES.length;
  out.set(PROTOCOL_BYTES, 1);
  out.set(h.reserved, 20);
  out.set(h.infoHash, 28);
  out.set(h.peerId, 48);
  return out;
}
