// Readers for single tracker query parameters, each failing with a TrackerError that names it.
import { toHex } from "../shared/bytes.ts";
import { TrackerError } from "./errors.ts";
import { idHex } from "./hex-ids.ts";
import type { RawQuery } from "./query.ts";

/** Every announce decodes two ids: into this buffer, not a fresh array each. */
const ID_BYTES = new Uint8Array(20);

/** A 20-byte binary id (`info_hash`, `peer_id`) as 40 lowercase hex digits. */
export function readId(query: RawQuery, name: "info_hash" | "peer_id"): string {
  const length = query.decodeInto(name, ID_BYTES);
  if (length === undefined) throw new TrackerError("missing-param", `missing ${name}`);
  checkIdLength(length, name);
  return idHex(ID_BYTES);
}

/**
 * The same id as its 20 bytes, decoded straight into `out` (20 bytes long, e.g. a view into a larger
 * buffer): the announce path of a store that takes ids as bytes (SwarmStore.announceInto) makes no
 * hex string for them.
 */
export function readIdInto(query: RawQuery, name: "info_hash" | "peer_id", out: Uint8Array): void {
  const length = query.decodeInto(name, out);
  if (length === undefined) throw new TrackerError("missing-param", `missing ${name}`);
  checkIdLength(length, name);
}

export function idToHex(bytes: Uint8Array, name: "info_hash" | "peer_id"): string {
  checkIdLength(bytes.length, name);
  return toHex(bytes);
}

function checkIdLength(length: number, name: "info_hash" | "peer_id"): void {
  if (length !== 20) {
    throw new TrackerError(name === "info_hash" ? "bad-info-hash" : "bad-peer-id", `${name} must be 20 bytes (percent-encoded), got ${length}`);
  }
}

/** A non-negative decimal integer (up to 20 digits: 64-bit byte counts). */
export function readCount(query: RawQuery, name: string, required: boolean): number | undefined {
  // Digits as sent: what nearly every client does, read without making a string.
  const plain = query.plainDigits(name, 15);
  if (plain >= 0) return plain;
  const text = query.text(name);
  if (text === undefined || (text === "" && !required)) {
    if (required) throw new TrackerError("missing-param", `missing ${name}`);
    return undefined;
  }
  if (!/^\d{1,20}$/.test(text)) throw new TrackerError("bad-param", `${name} must be a non-negative integer, got "${text.slice(0, 32)}"`);
  return Number(text);
}

export function readPort(query: RawQuery): number {
  const plain = query.plainDigits("port", 5);
  if (plain >= 1 && plain <= 65535) return plain;
  const text = query.text("port");
  if (text === undefined) throw new TrackerError("missing-param", "missing port");
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new TrackerError("bad-port", `port must be 1-65535, got "${text.slice(0, 32)}"`);
  return port;
}

/** Longest `key` kept; clients send 8 characters or so. A longer one is refused rather than truncated, which would weaken it. */
export const MAX_KEY_BYTES = 64;

/**
 * The `key` parameter (the client's proof that it is the same peer after an address change), as a
 * string of its bytes taken as Latin-1; undefined when absent or empty. Built afresh from the bytes,
 * so a stored key never holds on to the request's URL.
 */
export function readKey(query: RawQuery): string | undefined {
  const length = query.decodeInto("key", KEY_BYTES);
  if (length === undefined || length === 0) return undefined;
  if (length > MAX_KEY_BYTES) throw new TrackerError("bad-param", `key must be at most ${MAX_KEY_BYTES} bytes, got ${length}`);
  return String.fromCharCode.apply(null, KEY_BYTES.subarray(0, length) as unknown as number[]);
}

/** Where readKey decodes a key (a longer one is counted, not written, and refused). */
const KEY_BYTES = new Uint8Array(MAX_KEY_BYTES);
