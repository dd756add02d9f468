// Magnet URIs (BEP 9): `magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=<name>&tr=<tracker>...&x.pe=<host:port>...`
// Parsing takes the raw query apart by hand: `+` means a space only in `dn` (as many writers emit it),
// while tracker URLs keep it as it is; each value is percent-decoded once.
import { toHex, fromHex } from "./bytes.ts";
import { asInfoHash, type InfoHash } from "./ids.ts";

export interface MagnetLink {
  infoHash: InfoHash;
  /** `dn`: a display name, only a hint until the metadata arrives. */
  name?: string;
  /** `tr`, in order (each its own tier, as BEP 12 clients treat them). */
  trackers: string[];
  /** `x.pe`: peers to try directly, as "host:port" or "[v6]:port". */
  peers: string[];
  /** `ws`: web seeds. */
  webSeeds: string[];
}

export type MagnetErrorCode = "not-magnet" | "missing-info-hash" | "bad-info-hash" | "bad-encoding" | "bad-peer" | "v2-only";

export class MagnetError extends Error {
  override readonly name = "MagnetError";
  constructor(
    readonly code: MagnetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding, either case; null when not valid. */
export function fromBase32(text: string): Uint8Array | null {
  const upper = text.toUpperCase().replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((upper.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const ch of upper) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

export function toBase32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function isMagnet(text: string): boolean {
  return /^magnet:\?/i.test(text);
}

export function parseMagnet(uri: string): MagnetLink {
  if (!isMagnet(uri)) throw new MagnetError("not-magnet", `"${shorten(uri)}" is not a magnet link (it must start with "magnet:?")`);
  const link: MagnetLink = { infoHash: undefined as unknown as InfoHash, trackers: [], peers: [], webSeeds: [] };
  let sawV2 = false;
  for (const pair of uri.slice(uri.indexOf("?") + 1).split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const raw = eq < 0 ? "" : pair.slice(eq + 1);
    const value = percentDecode(key === "dn" ? raw.replace(/\+/g, " ") : raw, key);
    if (key === "xt" || /^xt\.\d+$/.test(key)) {
      if (/^urn:btmh:/i.test(value)) sawV2 = true;
      else if (/^urn:btih:/i.test(value)) link.infoHash = readInfoHash(value.slice(9));
    } else if (key === "dn") link.name = value;
    else if (key === "tr" || /^tr\.\d+$/.test(key)) link.trackers.push(value);
    else if (key === "ws") link.webSeeds.push(value);
    else if (key === "x.pe") link.peers.push(checkPeer(value));
  }
  if (!link.infoHash) {
    if (sawV2) throw new MagnetError("v2-only", "this magnet link is for a BitTorrent v2-only torrent (urn:btmh); only v1 info hashes are supported");
    throw new MagnetError("missing-info-hash", "the magnet link has no xt=urn:btih:<info hash>");
  }
  return link;
}

export function formatMagnet(link: Omit<MagnetLink, "trackers" | "peers" | "webSeeds"> & Partial<MagnetLink>): string {
  let out = `magnet:?xt=urn:btih:${toHex(link.infoHash)}`;
  if (link.name !== undefined) out += `&dn=${encodeURIComponent(link.name)}`;
  for (const tr of link.trackers ?? []) out += `&tr=${encodeURIComponent(tr)}`;
  for (const ws of link.webSeeds ?? []) out += `&ws=${encodeURIComponent(ws)}`;
  for (const pe of link.peers ?? []) out += `&x.pe=${encodeURIComponent(pe)}`;
  return out;
}

function readInfoHash(text: string): InfoHash {
  const bytes = text.length === 40 ? fromHex(text) : text.length === 32 ? fromBase32(text) : null;
  if (bytes?.length !== 20) {
    throw new MagnetError("bad-info-hash", `"${shorten(text)}" is not an info hash (expected 40 hex digits or 32 base32 characters)`);
  }
  return asInfoHash(bytes);
}

function percentDecode(text: string, key: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new MagnetError("bad-encoding", `the magnet link's "${key}" has broken percent-encoding: "${shorten(text)}"`);
  }
}

function checkPeer(value: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) throw new MagnetError("bad-peer", `x.pe "${shorten(value)}" is not host:port`);
  return value;
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
