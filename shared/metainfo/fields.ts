// Typed reads of bencoded dictionary fields. Only own properties count: a key such as "constructor"
// must never resolve through the object's prototype.
import type { BDict, BValue } from "../bencode.ts";
import { utf8 } from "../bytes.ts";

export function field(dict: BDict, key: string): BValue | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

export function isDict(value: BValue | undefined): value is BDict {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value);
}

export function isBytes(value: BValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function isInteger(value: BValue | undefined): value is number {
  return typeof value === "number";
}

/**
 * Text of a byte-string field, preferring the `<key>.utf-8` variant some tools add. Bytes that are not
 * UTF-8 are decoded with U+FFFD in their place and `onLossy` is told.
 */
export function textField(dict: BDict, key: string, onLossy?: (text: string) => void): string | undefined {
  const preferred = field(dict, `${key}.utf-8`);
  if (isBytes(preferred)) {
    const text = utf8.decodeStrict(preferred);
    if (text !== null) return text;
  }
  const value = field(dict, key);
  if (!isBytes(value)) return undefined;
  return textOf(value, onLossy);
}

export function textOf(bytes: Uint8Array, onLossy?: (text: string) => void): string {
  const strict = utf8.decodeStrict(bytes);
  if (strict !== null) return strict;
  const lossy = utf8.decode(bytes);
  onLossy?.(lossy);
  return lossy;
}
