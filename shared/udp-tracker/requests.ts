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
import { readU64, view, writeU64 } from "./wire.ts";

/** The smallest packet any request can be: the 16-byte connect request. */
const MIN_REQUEST_BYTES = CONNECT_REQUEST_BYTES;

export function decodeRequest(packet: Uint8Array): UdpRequest {
  if (packet.length < MIN_REQUEST_BYTES) throw new UdpCodecError("too-short", `a request is at least ${MIN_REQUEST_BYTES} bytes, got ${packet.length}`);
  const v = view(packet);
  const action = v.getUint32(8);
  const transactionId = v.getUint32(12);
  switch (action) {
    case ACTION.connect:
      if (v.getBigUint64(0) !== PROTOCOL_ID) throw new UdpCodecError("bad-protocol-id", "connect request without the BEP 15 protocol id");
      return { action: "connect", transactionId };
    case ACTION.announce:
      return decodeAnnounce(packet, v, transactionId);
    case ACTION.scrape:
      return decodeScrape(packet, v, transactionId);
    default:
      throw new UdpCodecError("unknown-action", `unknown request action ${action}`);
  }
}

function decodeAnnounce(packet: Uint8Array, v: DataView, transactionId: number): AnnounceRequest {
  // Longer is fine: BEP 41 options follow the fixed part.
  if (packet.length < ANNOUNCE_REQUEST_BYTES) {
    throw new UdpCodecError("too-short", `an announce request is at least ${ANNOUNCE_REQUEST_BYTES} bytes, got ${packet.length}`);
  }
  const eventNumber = v.getUint32(80);
  const event = EVENTS[eventNumber];
  if (event === undefined) throw new UdpCodecError("bad-event", `announce event must be 0-3, got ${eventNumber}`);
  return {
    action: "announce",
    connectionId: v.getBigUint64(0),
    transactionId,
    // Copies: the caller may keep them after the packet buffer is reused.
    infoHash: packet.slice(16, 36),
    peerId: packet.slice(36, 56),
    downloaded: readU64(v, 56),
    left: readU64(v, 64),
    uploaded: readU64(v, 72),
    event,
    ip: v.getUint32(84),
    key: v.getUint32(88),
    numWant: v.getInt32(92),
    port: v.getUint16(96),
  };
}

function decodeScrape(packet: Uint8Array, v: DataView, transactionId: number): ScrapeRequest {
  const body = packet.length - SCRAPE_REQUEST_HEADER_BYTES;
  if (body === 0 || body % 20 !== 0) {
    throw new UdpCodecError("bad-length", `a scrape request carries one or more 20-byte info hashes; got ${body} bytes after the header`);
  }
  const infoHashes: Uint8Array[] = [];
  for (let at = SCRAPE_REQUEST_HEADER_BYTES; at < packet.length; at += 20) infoHashes.push(packet.slice(at, at + 20));
  return { action: "scrape", connectionId: v.getBigUint64(0), transactionId, infoHashes };
}

export function encodeConnectRequest(transactionId: number): Uint8Array {
  const out = new Uint8Array(CONNECT_REQUEST_BYTES);
  const v = view(out);
  v.setBigUint64(0, PROTOCOL_ID);
  v.setUint32(8, ACTION.connect);
  v.setUint32(12, transactionId >>> 0);
  return out;
}

export function encodeAnnounceRequest(req: Omit<AnnounceRequest, "action">): Uint8Array {
  checkId(req.infoHash, "infoHash");
  checkId(req.peerId, "peerId");
  const out = new Uint8Array(ANNOUNCE_REQUEST_BYTES);
  const v = view(out);
  v.setBigUint64(0, BigInt.asUintN(64, req.connectionId));
  v.setUint32(8, ACTION.announce);
  v.setUint32(12, req.transactionId >>> 0);
  out.set(req.infoHash, 16);
  out.set(req.peerId, 36);
  writeU64(v, 56, req.downloaded);
  writeU64(v, 64, req.left);
  writeU64(v, 72, req.uploaded);
  v.setUint32(80, EVENTS.indexOf(req.event));
  v.setUint32(84, req.ip >>> 0);
  v.setUint32(88, req.key >>> 0);
  v.setInt32(92, req.numWant | 0);
  v.setUint16(96, req.port & 0xffff);
  return out;
}

export function encodeScrapeRequest(req: Omit<ScrapeRequest, "action">): Uint8Array {
  const out = new Uint8Array(SCRAPE_REQUEST_HEADER_BYTES + 20 * req.infoHashes.length);
  const v = view(out);
  v.setBigUint64(0, BigInt.asUintN(64, req.connectionId));
  v.setUint32(8, ACTION.scrape);
  v.setUint32(12, req.transactionId >>> 0);
  req.infoHashes.forEach((hash, i) => {
    checkId(hash, "infoHashes[]");
    out.set(hash, SCRAPE_REQUEST_HEADER_BYTES + 20 * i);
  });
  return out;
}

function checkId(id: Uint8Array, name: string): void {
  if (id.length !== 20) throw new UdpCodecError("bad-length", `${name} must be 20 bytes, got ${id.length}`);
}
