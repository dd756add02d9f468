// Telling an incoming connection's protocol from its first bytes, on the one listening port: a plain
// BitTorrent handshake starts with 19 and "BitTorrent protocol"; an MSE one with a random-looking DH
// value (which starts that way with probability 2^-160).
import { PROTOCOL } from "../wire/handshake.ts";

const PREFIX = Uint8Array.from("\x13" + PROTOCOL, (c) => c.charCodeAt(0));

/** Bytes needed at most to decide. */
export const CLASSIFY_BYTES = PREFIX.length;

export type IncomingKind = "plaintext" | "mse" | "need-more";

/** Decides as soon as a byte differs from the plaintext prefix; "need-more" while all seen so far match. */
export function classifyIncoming(first: Uint8Array): IncomingKind {
  const n = Math.min(first.length, PREFIX.length);
  for (let i = 0; i < n; i++) if (first[i] !== PREFIX[i]) return "mse";
  return n === PREFIX.length ? "plaintext" : "need-more";
}
