// PROVISIONAL: the API other parts build against. Issue 2 replaces the body with the validating
// wrapper (typed errors with offsets, canonical encoder, depth limit, info-dict byte span).
import bencodePkg from "bencode";

/** A decoded bencode value: byte strings stay bytes; dictionary keys are UTF-8 text. */
export type BValue = number | Uint8Array | BValue[] | BDict;
export interface BDict {
  [key: string]: BValue;
}
/** What `encode` accepts: like BValue, plus JS strings (encoded as UTF-8) and bigints. */
export type BEncodable = number | bigint | string | Uint8Array | readonly BEncodable[] | { readonly [key: string]: BEncodable | undefined };

export class BencodeError extends Error {
  override readonly name = "BencodeError";
  constructor(
    readonly code: string,
    message: string,
    /** Byte offset in the input where the problem was found. */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

/** Canonical encoding: dictionary keys sorted by raw bytes; undefined values are left out. */
export function encode(value: BEncodable): Uint8Array {
  return bencodePkg.encode(value);
}

export function decode(bytes: Uint8Array): BValue {
  return bencodePkg.decode(bytes) as BValue;
}
