// A tracker's binary ids and keys as the hex text the stores key them by, made on the announce path:
// each is one flat string built from char codes (or the runtime's native toHex), never a rope of
// concatenations that every Map lookup by it would first have to flatten. HTTP's query reader
// (params.ts), the UDP tracker and the stores share them, so an id or key reads the same whichever
// way it came.

const HEX_DIGIT_CODES = Array.from("0123456789abcdef", (ch) => ch.charCodeAt(0));
const HEX_UPPER_CODES = Array.from("0123456789ABCDEF", (ch) => ch.charCodeAt(0));
const ID_HEX_CODES: number[] = new Array(40).fill(0);
const KEY_HEX_CODES: number[] = new Array(8).fill(0);
/**
 * Uint8Array.prototype.toHex (ES2026; Bun, Deno and workerd have it): one native call that makes a
 * flat lowercase string, about a third of the cost of building it from char codes.
 */
const NATIVE_TO_HEX = typeof (new Uint8Array(0) as Uint8Array & { toHex?: unknown }).toHex === "function";

/** A 20-byte id (`info_hash`, `peer_id`) as 40 lowercase hex digits. */
export function idHex(id: Uint8Array): string {
  if (NATIVE_TO_HEX) return (id as Uint8Array & { toHex(): string }).toHex();
  for (let i = 0; i < 20; i++) {
    const b = id[i]!;
    ID_HEX_CODES[2 * i] = HEX_DIGIT_CODES[b >> 4]!;
    ID_HEX_CODES[2 * i + 1] = HEX_DIGIT_CODES[b & 15]!;
  }
  return String.fromCharCode.apply(null, ID_HEX_CODES);
}

/** A 32-bit `key` (BEP 15's) as 8 upper-case hex digits, as libtorrent sends it over HTTP (%08X). */
export function keyHex(key: number): string {
  for (let i = 0; i < 8; i++) KEY_HEX_CODES[i] = HEX_UPPER_CODES[(key >>> (28 - 4 * i)) & 15]!;
  return String.fromCharCode.apply(null, KEY_HEX_CODES);
}
