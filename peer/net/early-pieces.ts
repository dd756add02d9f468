// A peer's pieces as it tells them before we know how many pieces the torrent has (a magnet link before its
// metadata): its last bitfield's bytes (or BEP 6's have-all / have-none) and the `have`s since. Checked
// against the real count once the metadata is known: a bitfield of the wrong length, spare bits set or a
// `have` past the end are then the protocol errors they would have been from the start.
import { Bitfield, bitfieldLength, spareBitsClear } from "../../shared/bitfield.ts";
import { MAX_METADATA_SIZE } from "../../shared/wire/ut-metadata.ts";
import { WireError } from "../../shared/wire/errors.ts";
import type { WireMessage } from "../../shared/wire/types.ts";

/** Pieces no torrent we accept can exceed: an info dictionary of at most 4 MiB holds 20 bytes per piece. */
export const MAX_UNKNOWN_PIECES = Math.floor(MAX_METADATA_SIZE / 20);

/** `have`s remembered at most: a peer cannot make us hold more than a bitfield's worth. */
const MAX_HAVES = 4096;

export class EarlyPieces {
  /** The last announcement: a bitfield's bytes, every piece (have-all), or none yet (have-none, or nothing said). */
  private bits: Uint8Array | "all" | null = null;
  private readonly haves = new Set<number>();

  /** A `bitfield` (its bytes a view: copied), `have-all` or `have-none`. It replaces what was known, as with a known count. */
  announced(message: Extract<WireMessage, { type: "bitfield" | "have-all" | "have-none" }>): void {
    this.bits = message.type === "bitfield" ? message.bits.slice() : message.type === "have-all" ? "all" : null;
    this.haves.clear();
  }

  have(index: number): void {
    if (this.haves.size < MAX_HAVES) this.haves.add(index);
  }

  /** The peer's pieces for a torrent of `pieceCount` pieces; WireError when what it said does not fit. */
  resolve(pieceCount: number): Bitfield {
    if (this.bits === "all") return Bitfield.full(pieceCount);
    let pieces = new Bitfield(pieceCount);
    if (this.bits) {
      if (this.bits.length !== bitfieldLength(pieceCount) || !spareBitsClear(this.bits, pieceCount)) {
        throw new WireError("bad-bitfield", `its bitfield of ${this.bits.length} bytes does not fit ${pieceCount} pieces`);
      }
      pieces = Bitfield.fromWire(this.bits, pieceCount);
    }
    for (const index of this.haves) {
      if (index >= pieceCount) throw new WireError("bad-index", `have for piece ${index} but the torrent has ${pieceCount} pieces`);
      pieces.set(index);
    }
    return pieces;
  }
}
