// BEP 15 requests (client -> tracker): encoders for clients, a decoder for trackers. The decoder
// reads only within the packet and throws UdpCodecError for anything it cannot take.
import { UdpCodecError } from "./errors.ts";
import {
  ACTION,
  ANNOUNCE_REQUEST_BYTES,
  CONNECT_REQUEST_BYTES,
  EVENTS,
  PROTOCOL_ID,
  SCRAPE_REQUEST_HEADER_BYTES,
  type AnnounceRequest,
  type ScrapeRequest,
  type UdpRequest,
} from "./types.ts";
import { readI32, readU16, readU32, readU64, readU64Big, writeU16, writeU32, writeU64, writeU64Big } from "./wire.ts";

/** The smallest packet any request can be: the 16-byte connect request. */
const MIN_REQUEST_BYTES = CONNECT_REQUEST_BYTES;

export function decodeRequest(packet: Uint8Array): UdpRequest {
  if (packet.length < MIN_REQUEST_BYTES) throw new UdpCodecError("too-short", `a request is at least ${MIN_REQUEST_BYTES} bytes, got ${packet.length}`);
  const action = readU32(packet, 8);
  const transactionId = readU32(packet, 12);
  switch (action) {
    case ACTION.connect:
      if (readU64Big(packet, 0) !== PROTOCOL_ID) throw new UdpCodecError("bad-protocol-id", "connect request without the BEP 15 protocol id");
      return { action: "connect", transactionId };
    case ACTION.announce:
      return decodeAnnounce(packet, transactionId);
    case ACTION.scrape:
      return decodeScrape(packet, transactionId);
    default:
      throw new UdpCodecError("unknown-action", `unknown request action ${action}`);
  }
}

function decodeAnnounce(packet: Uint8Array, transactionId: number): AnnounceRequest {
  // Longer is fine: BEP 41 options follow the fixed part.
  if (packet.length < ANNOUNCE_REQUEST_BYTES) {
    throw new UdpCodecError("too-short", `an announce request is at least ${ANNOUNCE_REQUEST_BYTES} bytes, got ${packet.length}`);
  }
  const eventNumber = readU32(packet, 80);
  const event = EVENTS[eventNumber];
  if (event === undefined) throw new UdpCodecError("bad-event", `announce event must be 0-3, got ${eventNumber}`);
  return {
    action: "announce",
    connectionId: readU64Big(packet, 0),
    transactionId,
    // Copies: the caller may keep them after the packet buffer is reused.
    infoHash: packet.slice(16, 36),
    peerId: packet.slice(36, 56),
    downloaded: readU64(packet, 56),
    left: readU64(packet, 64),
    uploaded: readU64(packet, 72),
    event,
    ip: readU32(packet, 84),
    key: readU32(packet, 88),
    numWant: readI32(packet, 92),
    port: readU16(packet, 96),
  };
}

function decodeScrape(packet: Uint8Array, transactionId: number): ScrapeRequest {
  const body = packet.length - SCRAPE_REQUEST_HEADER_BYTES;
  if (body === 0 || body % 20 !== 0) {
    throw new UdpCodecError("bad-length", `a scrape request carries one or more 20-byte info hashes; got ${body} bytes after the header`);
  }
  const infoHashes: Uint8Array[] = [];
  for (let at = SCRAPE_REQUEST_HEADER_BYTES; at < packet.length; at += 20) infoHashes.push(packet.slice(at, at + 20));
  return { action: "scrape", connectionId: readU64Big(packet, 0), transactionId, infoHashes };
}

export function encodeConnectRequest(transactionId: number): Uint8Array {
  const out = new Uint8Array(CONNECT_REQUEST_BYTES);
  writeU64Big(out, 0, PROTOCOL_ID);
  writeU32(out, 8, ACTION.connect);
  writeU32(out, 12, transactionId >>> 0);
  return out;
}

export function encodeAnnounceRequest(req: Omit<AnnounceRequest, "action">): Uint8Array {
  checkId(req.infoHash, "infoHash");
  checkId(req.peerId, "peerId");
  const out = new Uint8Array(ANNOUNCE_REQUEST_BYTES);
  writeU64Big(out, 0, req.connectionId);
  writeU32(out, 8, ACTION.announce);
  writeU32(out, 12, req.transactionId >>> 0);
  out.set(req.infoHash, 16);
  out.set(req.peerId, 36);
  writeU64(out, 56, req.downloaded);
  writeU64(out, 64, req.left);
  writeU64(out, 72, req.uploaded);
  writeU32(out, 80, EVENTS.indexOf(req.event));
  writeU32(out, 84, req.ip >>> 0);
  writeU32(out, 88, req.key >>> 0);
  writeU32(out, 92, req.numWant | 0);
  writeU16(out, 96, req.port & 0xffff);
  return out;
}

export function encodeScrapeRequest(req: Omit<ScrapeRequest, "action">): Uint8Array {
  const out = new Uint8Array(SCRAPE_REQUEST_HEADER_BYTES + 20 * req.infoHashes.length);
  writeU64Big(out, 0, req.connectionId);
  writeU32(out, 8, ACTION.scrape);
  writeU32(out, 12, req.transactionId >>> 0);
  req.infoHashes.forEach((hash, i) => {
    checkId(hash, "infoHashes[]");
    out.set(hash, SCRAPE_REQUEST_HEADER_BYTES + 20 * i);
  });
  return out;
}

function checkId(id: Uint8Array, name: string): void {
  if (id.length !== 20) throw new UdpCodecError("bad-length", `${name} must be 20 bytes, got ${id.length}`);
}
