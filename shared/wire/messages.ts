// Peer wire messages (BEP 3) as objects: decode on top of readFrame, encode into fresh or given bytes.
import { readFrame, WireFrame, type Decoded, type WireLimits } from "./frame.ts";
import { MessageId, type WireMessage } from "./types.ts";

// Messages without a payload are shared frozen objects: decoding them allocates nothing.
const KEEP_ALIVE: WireMessage = Object.freeze({ type: "keep-alive" });
const CHOKE: WireMessage = Object.freeze({ type: "choke" });
const UNCHOKE: WireMessage = Object.freeze({ type: "unchoke" });
const INTERESTED: WireMessage = Object.freeze({ type: "interested" });
const NOT_INTERESTED: WireMessage = Object.freeze({ type: "not-interested" });
const HAVE_ALL: WireMessage = Object.freeze({ type: "have-all" });
const HAVE_NONE: WireMessage = Object.freeze({ type: "have-none" });

const scratch = new WireFrame();

/**
 * Decodes one message at `offset`: the message and the bytes it used, or how many more bytes are needed.
 * An over-long length prefix throws WireError as soon as the 5 header bytes are there: nothing is
 * buffered for it. `bitfield.bits`, `piece.block`, `extended.payload` and `unknown.payload` are views into `bytes`.
 */
export function decodeMessage(bytes: Uint8Array, offset: number, limits: WireLimits): Decoded<WireMessage> {
  const size = readFrame(bytes, offset, limits, scratch);
  if (size < 0) return { need: -size };
  return { value: messageOf(bytes, scratch), size };
}

/** The message object for a frame filled by readFrame. */
export function messageOf(bytes: Uint8Array, f: WireFrame): WireMessage {
  const p = f.payloadOffset;
  switch (f.id) {
    case -1:
      return KEEP_ALIVE;
    case MessageId.Choke:
      return CHOKE;
    case MessageId.Unchoke:
      return UNCHOKE;
    case MessageId.Interested:
      return INTERESTED;
    case MessageId.NotInterested:
      return NOT_INTERESTED;
    case MessageId.Have:
      return { type: "have", index: f.index };
    case MessageId.Bitfield:
      return { type: "bitfield", bits: bytes.subarray(p, p + f.payloadLength) };
    case MessageId.Request:
      return { type: "request", index: f.index, begin: f.begin, length: f.length };
    case MessageId.Cancel:
      return { type: "cancel", index: f.index, begin: f.begin, length: f.length };
    case MessageId.Piece:
      return { type: "piece", index: f.index, begin: f.begin, block: bytes.subarray(p + 8, p + f.payloadLength) };
    case MessageId.Port:
      return { type: "port", port: f.port };
    case MessageId.Suggest:
      return { type: "suggest", index: f.index };
    case MessageId.HaveAll:
      return HAVE_ALL;
    case MessageId.HaveNone:
      return HAVE_NONE;
    case MessageId.Reject:
      return { type: "reject", index: f.index, begin: f.begin, length: f.length };
    case MessageId.AllowedFast:
      return { type: "allowed-fast", index: f.index };
    case MessageId.Extended:
      return { type: "extended", id: bytes[p]!, payload: bytes.subarray(p + 1, p + f.payloadLength) };
    default:
      return { type: "unknown", id: f.id, payload: bytes.subarray(p, p + f.payloadLength) };
  }
}

/** Bytes `m` takes on the wire, length prefix included. */
export function encodedLength(m: WireMessage): number {
  switch (m.type) {
    case "keep-alive":
      return 4;
    case "choke":
    case "unchoke":
    case "interested":
    case "not-interested":
    case "have-all":
    case "have-none":
      return 5;
    case "have":
    case "suggest":
    case "allowed-fast":
      return 9;
    case "bitfield":
      return 5 + m.bits.length;
    case "request":
    case "cancel":
    case "reject":
      return 17;
    case "piece":
      return 13 + m.block.length;
    case "port":
      return 7;
    case "extended":
      return 6 + m.payload.length;
    case "unknown":
      return 5 + m.payload.length;
  }
}

export function encodeMessage(m: WireMessage): Uint8Array {
  const out = new Uint8Array(encodedLength(m));
  encodeMessageInto(m, out, 0);
  return out;
}

/** Encodes `m` into `into` at `offset` (e.g. many requests batched into one socket write); returns bytes written. */
export function encodeMessageInto(m: WireMessage, into: Uint8Array, offset: number): number {
  const size = encodedLength(m);
  if (offset + size > into.length) throw new RangeError(`no room for a ${size}-byte ${m.type} message`);
  writeU32(into, offset, size - 4);
  const p = offset + 5;
  switch (m.type) {
    case "keep-alive":
      return 4;
    case "choke":
      into[offset + 4] = MessageId.Choke;
      break;
    case "unchoke":
      into[offset + 4] = MessageId.Unchoke;
      break;
    case "interested":
      into[offset + 4] = MessageId.Interested;
      break;
    case "not-interested":
      into[offset + 4] = MessageId.NotInterested;
      break;
    case "have-all":
      into[offset + 4] = MessageId.HaveAll;
      break;
    case "have-none":
      into[offset + 4] = MessageId.HaveNone;
      break;
    case "have":
    case "suggest":
    case "allowed-fast":
      into[offset + 4] = m.type === "have" ? MessageId.Have : m.type === "suggest" ? MessageId.Suggest : MessageId.AllowedFast;
      writeU32(into, p, m.index);
      break;
    case "bitfield":
      into[offset + 4] = MessageId.Bitfield;
      into.set(m.bits, p);
      break;
    case "request":
    case "cancel":
    case "reject":
      into[offset + 4] = m.type === "request" ? MessageId.Request : m.type === "cancel" ? MessageId.Cancel : MessageId.Reject;
      writeU32(into, p, m.index);
      writeU32(into, p + 4, m.begin);
      writeU32(into, p + 8, m.length);
      break;
    case "piece":
      writePieceHeader(into, offset, m.index, m.begin, m.block.length);
      into.set(m.block, offset + 13);
      break;
    case "port":
      into[offset + 4] = MessageId.Port;
      into[p] = (m.port >>> 8) & 0xff;
      into[p + 1] = m.port & 0xff;
      break;
    case "extended":
      into[offset + 4] = MessageId.Extended;
      into[p] = m.id;
      into.set(m.payload, p + 1);
      break;
    case "unknown":
      into[offset + 4] = m.id;
      into.set(m.payload, p);
      break;
  }
  return size;
}

/** The 17 bytes of a request message at `offset` (our requests, batched per received chunk: no message object each). */
export function writeRequest(into: Uint8Array, offset: number, index: number, begin: number, length: number): void {
  writeU32(into, offset, 13);
  into[offset + 4] = MessageId.Request;
  writeU32(into, offset + 5, index);
  writeU32(into, offset + 9, begin);
  writeU32(into, offset + 13, length);
}

/** The 13-byte frame header of a piece message: the block itself goes out as a second write, no reframing copy. */
export function writePieceHeader(into: Uint8Array, offset: number, index: number, begin: number, blockLength: number): void {
  writeU32(into, offset, 9 + blockLength);
  into[offset + 4] = MessageId.Piece;
  writeU32(into, offset + 5, index);
  writeU32(into, offset + 9, begin);
}

function writeU32(into: Uint8Array, offset: number, value: number): void {
  into[offset] = value >>> 24;
  into[offset + 1] = (value >>> 16) & 0xff;
  into[offset + 2] = (value >>> 8) & 0xff;
  into[offset + 3] = value & 0xff;
}
