// How a connection tells which pieces it has, and reads what the peer tells: a bitfield (BEP 3), or with
// a peer that also speaks the fast extension (BEP 6) `have-all` / `have-none`, which say it in 5 bytes.
import { Bitfield } from "../../shared/bitfield.ts";
import type { WireMessage } from "../../shared/wire/types.ts";

/** What goes out right after the handshake, or null (BEP 3 lets a peer with no piece say nothing; BEP 6 does not). */
export function firstPiecesMessage(ours: Bitfield, fast: boolean): WireMessage | null {
  if (fast && ours.isComplete()) return { type: "have-all" };
  if (fast && ours.count() === 0) return { type: "have-none" };
  return ours.count() > 0 ? { type: "bitfield", bits: ours.bytes } : null;
}

/** The peer's pieces as a `bitfield`, `have-all` or `have-none` states them (each replaces what we knew). */
export function announcedPieces(message: Extract<WireMessage, { type: "bitfield" | "have-all" | "have-none" }>, pieceCount: number): Bitfield {
  if (message.type === "bitfield") return Bitfield.fromWire(message.bits, pieceCount);
  return message.type === "have-all" ? Bitfield.full(pieceCount) : new Bitfield(pieceCount);
}
