// Bencode (BEP 3) through the `bencode` package, wrapped so that bad input never reaches it: our
// scanner (bencode-scan.ts) checks the bytes first and throws a BencodeError with a stable `code` and
// the byte offset; only then does the package build the values. On the way out, values are checked
// (integers only, no cycles) and dictionary keys are always sorted by raw bytes (canonical form).
//
// What the package does with values, and callers should know:
// - byte strings are fresh copies, never views into the input;
// - dictionary keys become text: UTF-8 when valid, else the package's hex of the raw bytes (so a key
//   like a raw 20-byte info hash may come back as 40 hex digits). Use `decodeDict` to get raw keys.
// - a duplicate dictionary key is always refused (`duplicate-key`), even with `strictKeyOrder: false`.
/// <reference path="./bencode-package.d.ts" />
import bencodePkg from "bencode";
import { BencodeError, Scanner, type DictEntrySpan, type ScanOptions } from "./bencode-scan.ts";

export { BencodeError, type BencodeErrorCode, type DictEntrySpan, type ScanOptions as DecodeOptions } from "./bencode-scan.ts";

/** A decoded bencode value: byte strings stay bytes; dictionary keys are UTF-8 text. */
export type BValue = number | Uint8Array | BValue[] | BDict;
export interface BDict {
  [key: string]: BValue;
}
/** What `encode` accepts: like BValue, plus JS strings (encoded as UTF-8) and bigints. */
export type BEncodable = number | bigint | string | Uint8Array | readonly BEncodable[] | { readonly [key: string]: BEncodable | undefined };

/** Decodes exactly one value filling the whole input; anything after it is an error. */
export function decode(bytes: Uint8Array, options?: ScanOptions): BValue {
  const end = new Scanner(bytes, options).scan(0);
  if (end !== bytes.length) throw new BencodeError("trailing-bytes", `${bytes.length - end} bytes follow the bencoded value`, end);
  return bencodePkg.decode(bytes, 0, end) as BValue;
}

/** Decodes one value at the start of `bytes` and says where it ends (for a value followed by raw data, e.g. ut_metadata). */
export function decodePrefix(bytes: Uint8Array, options?: ScanOptions): { value: BValue; end: number } {
  const end = new Scanner(bytes, options).scan(0);
  return { value: bencodePkg.decode(bytes, 0, end) as BValue, end };
}

/**
 * Decodes a dictionary filling the whole input, and also gives each entry's raw key and the exact byte
 * span of its value: what metainfo needs to hash the `info` dictionary as it stands in the file, and
 * what a scrape reply needs to read raw info-hash keys.
 */
export function decodeDict(bytes: Uint8Array, options?: ScanOptions): { value: BDict; entries: DictEntrySpan[] } {
  if (bytes.length > 0 && bytes[0] !== 0x64) {
    throw new BencodeError("unexpected-byte", "expected a dictionary ('d')", 0);
  }
  const scanner = new Scanner(bytes, options);
  const end = scanner.scan(0, true);
  if (end !== bytes.length) throw new BencodeError("trailing-bytes", `${bytes.length - end} bytes follow the bencoded value`, end);
  return { value: bencodePkg.decode(bytes, 0, end) as BDict, entries: scanner.entries ?? [] };
}

/** Canonical encoding: dictionary keys sorted by raw bytes; undefined values are left out. */
export function encode(value: BEncodable): Uint8Array {
  const out = bencodePkg.encode(checkEncodable(value, 0));
  // The package may hand back a Buffer on some runtimes; callers compare against plain Uint8Arrays.
  return out.constructor === Uint8Array ? out : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const MAX_ENCODE_DEPTH = 64;

/** Returns the value in the shape the package encodes correctly, or throws on what it would mangle. */
function checkEncodable(value: BEncodable, depth: number): unknown {
  if (depth > MAX_ENCODE_DEPTH) throw new BencodeError("too-deep", `cannot encode values nested deeper than ${MAX_ENCODE_DEPTH} levels (a cycle?)`, -1);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new BencodeError("not-encodable", `bencode integers must be safe integers, got ${value}`, -1);
    return value;
  }
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new BencodeError("integer-too-large", `integer ${value} is beyond ±(2^53 - 1)`, -1);
    }
    return Number(value);
  }
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    return value.map((item: BEncodable | undefined) => {
      if (item === undefined || item === null) throw new BencodeError("not-encodable", "a list cannot hold undefined or null", -1);
      return checkEncodable(item, depth + 1);
    });
  }
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const dict = value as { readonly [key: string]: BEncodable | undefined };
    const out: Record<string, unknown> = {};
    const keys = Object.keys(dict);
    checkKeyOrder(keys);
    for (const key of keys) {
      const item = dict[key];
      if (item !== undefined) out[key] = checkEncodable(item, depth + 1);
    }
    return out;
  }
  throw new BencodeError("not-encodable", `cannot bencode a ${value === null ? "null" : typeof value}`, -1);
}

/**
 * The package sorts keys by UTF-16 code units; raw UTF-8 byte order differs only when astral
 * characters meet characters from U+E000 up. Refuse that rare case rather than write a non-canonical
 * dictionary (none of the BitTorrent keys we write are outside ASCII).
 */
function checkKeyOrder(keys: string[]): void {
  if (!keys.some((k) => /[\uD800-\uFFFF]/.test(k))) return;
  const byUtf16 = [...keys].sort();
  const enc = new TextEncoder();
  const byBytes = [...keys].sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)));
  if (byUtf16.some((k, i) => k !== byBytes[i])) {
    throw new BencodeError("key-order", "dictionary keys mix astral and high-BMP characters; cannot encode them canonically", -1);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
