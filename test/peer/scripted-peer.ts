// What the hand-written test peers (hostile peers, the slow seeder) share: reading the peer wire off
// a socket with the project's codec, and a bitfield of every piece.
import { classifyIncoming } from "../../shared/mse/classify.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import { decodeHandshake, decodeMessage } from "../../shared/wire/codec.ts";

/** Per-socket read state: bytes not yet decoded, and whether the handshake has been read. */
export interface WireReadState {
  buf: Uint8Array;
  shook: boolean;
  /** The connection opened with something other than a plain handshake, and was hung up on. */
  refused: boolean;
}

export function newWireReadState(): WireReadState {
  return { buf: new Uint8Array(0), shook: false, refused: false };
}

/**
 * These test peers speak plain BitTorrent only, as many real ones do: a connection that opens with anything
 * but a plain handshake (btpeer's MSE attempt, under its default --encryption prefer) is hung up on, and btpeer
 * dials again in plain. True when `chunk` is such an opening: the caller ends the socket and ignores it.
 */
export function refusedOpening(state: WireReadState, chunk: Uint8Array): boolean {
  if (state.refused || state.shook) return state.refused;
  // By the first byte that differs from a plain handshake's (an MSE opening starts with 19 one time in 256).
  const seen = state.buf.length === 0 ? chunk : Uint8Array.from([...state.buf, ...chunk]);
  if (classifyIncoming(seen) === "mse") state.refused = true;
  return state.refused;
}

/** Appends `chunk`, then calls `onHandshake` once the handshake is complete and `onMessage` for each whole message. */
export function readWire(
  state: WireReadState,
  chunk: Uint8Array,
  pieceCount: number,
  on: { handshake(h: Handshake): void; message(m: WireMessage): void },
): void {
  const joined = new Uint8Array(state.buf.length + chunk.length);
  joined.set(state.buf);
  joined.set(chunk, state.buf.length);
  let offset = 0;
  if (!state.shook) {
    const hs = decodeHandshake(joined, 0);
    if ("need" in hs) {
      state.buf = joined;
      return;
    }
    state.shook = true;
    offset = hs.size;
    on.handshake(hs.value);
  }
  for (;;) {
    // Requests and pieces up to 1 MiB: a test peer may ask for (or answer) long requests (btpeer_max_request).
    const decoded = decodeMessage(joined, offset, { pieceCount, maxBlock: 1 << 20 });
    if ("need" in decoded) break;
    offset += decoded.size;
    on.message(decoded.value);
  }
  state.buf = joined.slice(offset);
}

/** The wire bitfield of a peer that has every piece (spare bits clear). */
export function fullBitfield(pieceCount: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(pieceCount / 8)).fill(0xff);
  const spare = bits.length * 8 - pieceCount;
  if (spare > 0) bits[bits.length - 1] = (0xff << spare) & 0xff;
  return bits;
}
