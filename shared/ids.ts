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
  constructor(readonly code: "bad-length" | "bad-hex", message: string) {
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
  if (!bytes || bytes.length !== 20) throw new IdError("bad-hex", `an info hash is 40 hex digits, got "${hex}"`);
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

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodes raw bytes for a tracker URL query (unreserved characters stay as they are). */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(ch) ? ch : "%" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
  }
  return out;
}
