// What both handshake state machines return, and the randomness they draw on (injectable, so tests and
// the fuzzer replay exactly).
import { concatBytes } from "../bytes.ts";
import type { CipherPair } from "./keys.ts";
import { MSE_PAD_MAX, type MseMethod } from "./methods.ts";

export interface MseResult {
  selected: MseMethod;
  /** The payload's ciphers, or null when plaintext was selected (the payload then goes as is). */
  cipher: CipherPair | null;
  /** SKEY: the initiator's torrent, or the one the receiver found from req2. */
  infoHash: Uint8Array;
  /** Receiver: the initiator's IA, decrypted (normally its BitTorrent handshake). Initiator: empty. */
  initialPayload: Uint8Array;
  /** Payload bytes that came with the end of the handshake, already decrypted. */
  rest: Uint8Array;
}

/** One feed's outcome: bytes to send (in order, before anything else), and the result once done. */
export interface MseStep {
  send: Uint8Array | null;
  done: MseResult | null;
}

export type RandomBytes = (n: number) => Uint8Array;

export const secureRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/** Random padding of 0..512 bytes: its length hides the handshake's shape, its content is noise. */
export function randomPad(random: RandomBytes, max = MSE_PAD_MAX): Uint8Array {
  const r = random(2);
  const length = ((r[0]! << 8) | r[1]!) % (max + 1);
  return random(length);
}

/** The parts one after another, in a new array. */
export const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

export const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
export const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** VC, crypto field (u32), then a u16 length: the start of steps 3 and 4. */
export function vcBlock(cryptoBits: number, padLength: number): Uint8Array {
  const out = new Uint8Array(14);
  const view = new DataView(out.buffer);
  view.setUint32(8, cryptoBits);
  view.setUint16(12, padLength);
  return out;
}
