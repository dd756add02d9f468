// Validated identifiers as branded types, and their encodings for tracker URLs and logs.
import { fromHex, toHex } from "./bytes.ts";

declare const infoHashBrand: unique symbol;
declare const peerIdBrand: unique symbol;

/** The 20-byte SHA-1 of a torrent's bencoded `info` dictionary. */
export type InfoHash = Uint8Array & { readonly [infoHashBrand]: true };
/** The 20-byte id a peer gives itself in handshakes and announces. */
export type PeerId = Uint8Array & { readonly [peerIdBrand]: true };

export class IdError extends Error {
  override readonly name = "IdError";
  constructor(
    readonly code: "bad-length" | "bad-hex",
    message: string,
  ) {
    super(message);
  }
}

export function asInfoHash(bytes: Uint8Array): InfoHash {
  if (bytes.length !== 20) throw new IdError("bad-length", `an info hash is 20 bytes, got ${bytes.length}`);
  return bytes as InfoHash;
}

export function asPeerId(bytes: Uint8Array): PeerId {
  if (bytes.length !== 20) throw new IdError("bad-length", `a peer id is 20 bytes, got ${bytes.length}`);
  return bytes as PeerId;
}

export function infoHashFromHex(hex: string): InfoHash {
  const bytes = fromHex(hex);
  if (bytes?.length !== 20) throw new IdError("bad-hex", `an info hash is 40 hex digits, got "${hex}"`);
  return bytes as InfoHash;
}

export const infoHashToHex = (hash: InfoHash): string => toHex(hash);

/** Azureus-style client prefix (BEP 20): "-BW" for btswarm, then a 4-digit version. */
export const CLIENT_PREFIX = "-BW0100-";

/** A fresh peer id: our client prefix and 12 random printable characters. */
export function generatePeerId(): PeerId {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const out = new Uint8Array(20);
  for (let i = 0; i < CLIENT_PREFIX.length; i++) out[i] = CLIENT_PREFIX.charCodeAt(i);
  const random = crypto.getRandomValues(new Uint8Array(20 - CLIENT_PREFIX.length));
  for (let i = 0; i < random.length; i++) out[CLIENT_PREFIX.length + i] = alphabet.charCodeAt(random[i]! % alphabet.length);
  return out as PeerId;
}

/** Each byte's form in a URL query: unreserved characters (RFC 3986) as they are, the rest as %XX. */
const PERCENT = Array.from({ length: 256 }, (_, b) => {
  const ch = String.fromCharCode(b);
  return /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
});

/** Percent-encodes raw bytes for a tracker URL query (unreserved characters stay as they are). */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += PERCENT[bytes[i]!];
  return out;
}

/**
 * Decodes a percent-encoded query value to raw bytes, never through UTF-8 (info hashes and peer ids
 * are binary). `+` stays a plus sign. Returns null on a broken escape ("%4", "%zz").
 */
export function percentDecodeBytes(text: string): Uint8Array | null {
  // ASCII stays one byte each; a raw non-ASCII character (invalid in a URL, but be liberal) gives its UTF-8 bytes.
  const raw = new TextEncoder().encode(text);
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const hi = hexDigit(raw[i + 1]);
    const lo = hexDigit(raw[i + 2]);
    if (hi < 0 || lo < 0) return null;
    out[n++] = hi * 16 + lo;
    i += 2;
  }
  return out.slice(0, n);
}

function hexDigit(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The client prefix of an Azureus-style peer id ("-BW0100-" → { client: "BW", version: "0100" }), or null. */
export function peerIdClient(peerId: Uint8Array): { client: string; version: string } | null {
  if (peerId.length !== 20 || peerId[0] !== 0x2d || peerId[7] !== 0x2d) return null;
  const text = String.fromCharCode(...peerId.subarray(1, 7));
  if (!/^[A-Za-z]{2}[0-9A-Za-z]{4}$/.test(text)) return null;
  return { client: text.slice(0, 2), version: text.slice(2) };
}
