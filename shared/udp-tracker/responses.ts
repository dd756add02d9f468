// BEP 15 responses (tracker -> client): encoders for trackers, a decoder for clients. The decoder
// reads only within the packet and throws UdpCodecError for anything it cannot take.
import { UdpCodecError } from "./errors.ts";
import {
  ACTION,
  ANNOUNCE_RESPONSE_HEADER_BYTES,
  CONNECT_RESPONSE_BYTES,
  ERROR_RESPONSE_HEADER_BYTES,
  PEER_BYTES,
  SCRAPE_ENTRY_BYTES,
  SCRAPE_RESPONSE_HEADER_BYTES,
  type AnnounceResponse,
  type ConnectResponse,
  type ErrorResponse,
  type Family,
  type ScrapeEntry,
  type ScrapeResponse,
  type UdpResponse,
} from "./types.ts";
import { readU32, readU64Big, writeU32, writeU64Big } from "./wire.ts";

const utf8Encoder = new TextEncoder();
// Not fatal: a tracker's error text is shown, not trusted; bad bytes become U+FFFD.
const utf8Decoder = new TextDecoder();

/**
 * Decodes a tracker's reply. `family` is the address family the request went over: it fixes the
 * size of the compact peers in an announce reply (6 bytes over IPv4, 18 over IPv6).
 */
export function decodeResponse(packet: Uint8Array, family: Family): UdpResponse {
  if (packet.length < 8) throw new UdpCodecError("too-short", `a response is at least 8 bytes, got ${packet.length}`);
  const action = readU32(packet, 0);
  const transactionId = readU32(packet, 4);
  switch (action) {
    case ACTION.connect:
      if (packet.length < CONNECT_RESPONSE_BYTES)
        throw new UdpCodecError("too-short", `a connect response is ${CONNECT_RESPONSE_BYTES} bytes, got ${packet.length}`);
      return { action: "connect", transactionId, connectionId: readU64Big(packet, 8) };
    case ACTION.announce: {
      if (packet.length < ANNOUNCE_RESPONSE_HEADER_BYTES) {
        throw new UdpCodecError("too-short", `an announce response is at least ${ANNOUNCE_RESPONSE_HEADER_BYTES} bytes, got ${packet.length}`);
      }
      const peers = packet.slice(ANNOUNCE_RESPONSE_HEADER_BYTES);
      if (peers.length % PEER_BYTES[family] !== 0) {
        throw new UdpCodecError("bad-family", `IPv${family} peers are ${PEER_BYTES[family]} bytes each; got ${peers.length} bytes`);
      }
      return { action: "announce", transactionId, interval: readU32(packet, 8), leechers: readU32(packet, 12), seeders: readU32(packet, 16), peers };
    }
    case ACTION.scrape: {
      const body = packet.length - SCRAPE_RESPONSE_HEADER_BYTES;
      if (body % SCRAPE_ENTRY_BYTES !== 0) throw new UdpCodecError("bad-length", `scrape entries are ${SCRAPE_ENTRY_BYTES} bytes each; got ${body} bytes`);
      const entries: ScrapeEntry[] = [];
      for (let at = SCRAPE_RESPONSE_HEADER_BYTES; at < packet.length; at += SCRAPE_ENTRY_BYTES) {
        entries.push({ seeders: readU32(packet, at), completed: readU32(packet, at + 4), leechers: readU32(packet, at + 8) });
      }
      return { action: "scrape", transactionId, entries };
    }
    case ACTION.error:
      return { action: "error", transactionId, message: utf8Decoder.decode(packet.subarray(ERROR_RESPONSE_HEADER_BYTES)) };
    default:
      throw new UdpCodecError("unknown-action", `unknown response action ${action}`);
  }
}

export function encodeConnectResponse(res: Omit<ConnectResponse, "action">): Uint8Array {
  const out = new Uint8Array(CONNECT_RESPONSE_BYTES);
  writeU32(out, 0, ACTION.connect);
  writeU32(out, 4, res.transactionId >>> 0);
  writeU64Big(out, 8, res.connectionId);
  return out;
}

/**
 * `peers` is either the compact peers concatenated, or one compact form per peer (what a swarm store
 * keeps), all of one family. Forms of the other family's size are refused, not silently mixed.
 */
export function encodeAnnounceResponse(
  res: Omit<AnnounceResponse, "action" | "peers"> & { peers: Uint8Array | readonly Uint8Array[] },
  family: Family,
): Uint8Array {
  const size = PEER_BYTES[family];
  const forms = res.peers;
  const peerBytes = forms instanceof Uint8Array ? forms.length : forms.length * size;
  if (forms instanceof Uint8Array && peerBytes % size !== 0) {
    throw new UdpCodecError("bad-family", `IPv${family} peers are ${size} bytes each; got ${peerBytes} bytes`);
  }
  const out = new Uint8Array(ANNOUNCE_RESPONSE_HEADER_BYTES + peerBytes);
  writeU32(out, 0, ACTION.announce);
  writeU32(out, 4, res.transactionId >>> 0);
  writeU32(out, 8, res.interval >>> 0);
  writeU32(out, 12, res.leechers >>> 0);
  writeU32(out, 16, res.seeders >>> 0);
  if (forms instanceof Uint8Array) {
    out.set(forms, ANNOUNCE_RESPONSE_HEADER_BYTES);
  } else {
    let at = ANNOUNCE_RESPONSE_HEADER_BYTES;
    for (const f of forms) {
      if (f.length !== size) throw new UdpCodecError("bad-family", `IPv${family} peers are ${size} bytes each; got one of ${f.length}`);
      // A plain loop: a native `set` call costs more than moving 6 or 18 bytes.
      for (let i = 0; i < size; i++) out[at++] = f[i]!;
    }
  }
  return out;
}

/**
 * Writes an announce reply's 20-byte header into `out` at `at` (the compact peers follow it there),
 * for a tracker that builds its reply in place.
 */
export function writeAnnounceHeader(out: Uint8Array, at: number, transactionId: number, interval: number, leechers: number, seeders: number): void {
  writeU32(out, at, ACTION.announce);
  writeU32(out, at + 4, transactionId >>> 0);
  writeU32(out, at + 8, interval >>> 0);
  writeU32(out, at + 12, leechers >>> 0);
  writeU32(out, at + 16, seeders >>> 0);
}

export function encodeScrapeResponse(res: Omit<ScrapeResponse, "action">): Uint8Array {
  const out = new Uint8Array(SCRAPE_RESPONSE_HEADER_BYTES + SCRAPE_ENTRY_BYTES * res.entries.length);
  writeU32(out, 0, ACTION.scrape);
  writeU32(out, 4, res.transactionId >>> 0);
  res.entries.forEach((e, i) => {
    const at = SCRAPE_RESPONSE_HEADER_BYTES + SCRAPE_ENTRY_BYTES * i;
    writeU32(out, at, e.seeders >>> 0);
    writeU32(out, at + 4, e.completed >>> 0);
    writeU32(out, at + 8, e.leechers >>> 0);
  });
  return out;
}

export function encodeErrorResponse(res: Omit<ErrorResponse, "action">): Uint8Array {
  const text = utf8Encoder.encode(res.message);
  const out = new Uint8Array(ERROR_RESPONSE_HEADER_BYTES + text.length);
  writeU32(out, 0, ACTION.error);
  writeU32(out, 4, res.transactionId >>> 0);
  out.set(text, ERROR_RESPONSE_HEADER_BYTES);
  return out;
}
