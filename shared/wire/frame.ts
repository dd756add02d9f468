// Framing of peer wire messages: reads the 4-byte length prefix and the id, bounds the length by the
// message type BEFORE the body is there, and fills a reusable `WireFrame` (no allocation per message).
// messages.ts builds message objects on top of this; a hot loop can use `readFrame` directly.
import { bitfieldLength, spareBitsClear } from "../bitfield.ts";
import { WireError } from "./errors.ts";
import { BLOCK_SIZE, MessageId } from "./types.ts";

export type Decoded<T> = { value: T; size: number } | { need: number };

export interface WireLimits {
  /** Pieces in the torrent: bounds the piece index of every message that has one, and sizes the `bitfield`. */
  pieceCount: number;
  /**
   * False while the torrent's piece count is not known yet (a magnet link before its metadata): `pieceCount`
   * is then only an upper bound, a `bitfield` may be any length up to it, and its spare bits cannot be
   * checked until the count is known (the receiver checks it then). Default true.
   */
  pieceCountKnown?: boolean;
  /** Largest block accepted in a `piece` and asked for in a `request` (default 16 KiB). */
  maxBlock?: number;
  /** Largest payload of any other message id: the extension protocol, ids we do not know (default 1 MiB). */
  maxOther?: number;
}

export const DEFAULT_MAX_OTHER = 1 << 20;

/** One framed message, as offsets into the input: valid until the input bytes are reused. */
export class WireFrame {
  /** Message id, or -1 for a keep-alive. */
  id = -1;
  /** Total bytes of the frame, length prefix included. */
  size = 0;
  /** Where the payload (after the id byte) starts in the input, and its length. */
  payloadOffset = 0;
  payloadLength = 0;
  /** have / request / piece / cancel / suggest / reject / allowed-fast: piece index. */
  index = 0;
  /** request / piece / cancel / reject: byte offset in the piece. */
  begin = 0;
  /** request / cancel / reject: requested length; piece: block length (the block is at payloadOffset + 8). */
  length = 0;
  /** port: the DHT port. */
  port = 0;
}

const readU32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Upper bound on any length prefix under these limits: checked before the id byte is even there. */
export function maxFrameLength(limits: WireLimits): number {
  return Math.max(9 + (limits.maxBlock ?? BLOCK_SIZE), 1 + bitfieldLength(limits.pieceCount), 1 + (limits.maxOther ?? DEFAULT_MAX_OTHER));
}

/**
 * Reads one frame at `offset`. Returns the frame's size (> 0) with `frame` filled in, or the negated
 * number of bytes still missing (< 0). Throws WireError for a length that is wrong for its type as soon
 * as the 5 header bytes are there, and for a bad index, request or bitfield once the body is.
 */
export function readFrame(bytes: Uint8Array, offset: number, limits: WireLimits, frame: WireFrame): number {
  const available = bytes.length - offset;
  if (available < 4) return available - 4;
  const length = readU32(bytes, offset);
  if (length === 0) {
    frame.id = -1;
    frame.size = 4;
    frame.payloadOffset = offset + 4;
    frame.payloadLength = 0;
    return 4;
  }
  if (length > maxFrameLength(limits)) throw new WireError("too-long", `message length ${length} is over any allowed size`);
  if (available < 5) return available - 4 - length;
  const id = bytes[offset + 4]!;
  checkLength(id, length, limits);
  if (available < 4 + length) return available - 4 - length;

  const p = offset + 5;
  frame.id = id;
  frame.size = 4 + length;
  frame.payloadOffset = p;
  frame.payloadLength = length - 1;
  switch (id) {
    case MessageId.Have:
    case MessageId.Suggest:
    case MessageId.AllowedFast:
      frame.index = checkIndex(readU32(bytes, p), limits);
      break;
    case MessageId.Request:
    case MessageId.Cancel:
    case MessageId.Reject: {
      frame.index = checkIndex(readU32(bytes, p), limits);
      frame.begin = readU32(bytes, p + 4);
      const want = readU32(bytes, p + 8);
      if (want === 0 || want > (limits.maxBlock ?? BLOCK_SIZE)) {
        throw new WireError(
          "bad-request",
          `${id === MessageId.Reject ? "reject" : "request"} for ${want} bytes: blocks are 1..${limits.maxBlock ?? BLOCK_SIZE} bytes`,
        );
      }
      frame.length = want;
      break;
    }
    case MessageId.Piece:
      frame.index = checkIndex(readU32(bytes, p), limits);
      frame.begin = readU32(bytes, p + 4);
      frame.length = length - 9;
      break;
    case MessageId.Bitfield:
      if (limits.pieceCountKnown !== false && !spareBitsClear(bytes.subarray(p, p + length - 1), limits.pieceCount)) {
        throw new WireError("bad-bitfield", "bitfield has spare bits set past the last piece");
      }
      break;
    case MessageId.Port:
      frame.port = (bytes[p]! << 8) | bytes[p + 1]!;
      break;
  }
  return 4 + length;
}

function checkLength(id: number, length: number, limits: WireLimits): void {
  switch (id) {
    case MessageId.Choke:
    case MessageId.Unchoke:
    case MessageId.Interested:
    case MessageId.NotInterested:
    case MessageId.HaveAll:
    case MessageId.HaveNone:
      return exactly(id, length, 1);
    case MessageId.Have:
    case MessageId.Suggest:
    case MessageId.AllowedFast:
      return exactly(id, length, 5);
    case MessageId.Request:
    case MessageId.Cancel:
    case MessageId.Reject:
      return exactly(id, length, 13);
    case MessageId.Port:
      return exactly(id, length, 3);
    case MessageId.Extended:
      if (length < 2) throw new WireError("bad-length", "extended message without its extended id");
      return within(id, length, limits);
    case MessageId.Bitfield: {
      const expected = 1 + bitfieldLength(limits.pieceCount);
      if (limits.pieceCountKnown === false ? length > expected : length !== expected) {
        throw new WireError("bad-bitfield", `bitfield message of ${length} bytes; ${limits.pieceCount} pieces need ${expected}`);
      }
      return;
    }
    case MessageId.Piece: {
      const max = 9 + (limits.maxBlock ?? BLOCK_SIZE);
      if (length > max) throw new WireError("too-long", `piece message of ${length} bytes; blocks are at most ${max - 9}`);
      if (length <= 9) throw new WireError("bad-length", `piece message of ${length} bytes carries no block`);
      return;
    }
    default:
      return within(id, length, limits);
  }
}

function within(id: number, length: number, limits: WireLimits): void {
  if (length - 1 > (limits.maxOther ?? DEFAULT_MAX_OTHER)) {
    throw new WireError("too-long", `message id ${id} of ${length} bytes is over the ${limits.maxOther ?? DEFAULT_MAX_OTHER}-byte cap`);
  }
}

function exactly(id: number, length: number, expected: number): void {
  if (length === expected) return;
  throw new WireError(length > expected ? "too-long" : "bad-length", `message id ${id} must be ${expected} bytes, got ${length}`);
}

function checkIndex(index: number, limits: WireLimits): number {
  if (index >= limits.pieceCount) throw new WireError("bad-index", `piece index ${index} but the torrent has ${limits.pieceCount} pieces`);
  return index;
}
