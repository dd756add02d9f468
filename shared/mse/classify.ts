// Telling an incoming connection's protocol from its first bytes, on the one listening port: a plain
// BitTorrent handshake starts with 19 and "BitTorrent protocol"; an MSE one with a random-looking DH
// value (which starts that way with probability 2^-160).
import { PROTOCOL } from "../wire/handshake.ts";

const PREFIX = Uint8Array.from(`\x13${PROTOCOL}`, (c) => c.charCodeAt(0));

/** Bytes needed at most to decide. */
export const CLASSIFY_BYTES = PREFIX.length;

export type IncomingKind = "plaintext" | "mse" | "need-more";

/** Decides as soon as a byte differs from the plaintext prefix; "need-more" while all seen so far match. */
export function classifyIncoming(first: Uint8Array): IncomingKind {
  const n = Math.min(first.length, PREFIX.length);
  for (let i = 0; i < n; i++) if (first[i] !== PREFIX[i]) return "mse";
  return n === PREFIX.length ? "plaintext" : "need-more";
}

/**
 * Holds an incoming connection's first bytes until `classifyIncoming` decides (at most 20 bytes are
 * held; a chunk is never split). `push` returns the decision and every byte received so far, once.
 */
export class FirstBytes {
  private held = new Uint8Array(0);
  private decided = false;

  push(chunk: Uint8Array): { kind: Exclude<IncomingKind, "need-more">; bytes: Uint8Array } | null {
    if (this.decided) throw new Error("FirstBytes.push after the decision");
    const bytes = this.held.length === 0 ? chunk : joined(this.held, chunk);
    const kind = classifyIncoming(bytes);
    if (kind === "need-more") {
      this.held = bytes.slice(); // under 20 bytes
      return null;
    }
    this.decided = true;
    this.held = new Uint8Array(0);
    return { kind, bytes };
  }
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
