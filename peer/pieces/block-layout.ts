// A torrent's pieces cut into 16 KiB blocks: each block's key (a unique number, for per-peer request sets),
// the block starting at a byte offset, and each piece's length (the last one is short).
import { BLOCK_SIZE } from "../../shared/wire/types.ts";

export interface PickerGeometry {
  pieceCount: number;
  pieceLength: number;
  length: number;
}

export class BlockLayout {
  readonly blocksPerPiece: number;

  constructor(protected readonly geometry: PickerGeometry) {
    this.blocksPerPiece = Math.ceil(geometry.pieceLength / BLOCK_SIZE);
  }

  /** A unique number for block `block` of piece `index`, used as a key in per-peer request sets. */
  blockKey(index: number, block: number): number {
    return index * this.blocksPerPiece + block;
  }

  /** The key of the block that starts at byte `begin` of piece `index`, or -1 when no block starts there. */
  keyAt(index: number, begin: number): number {
    if (index >= this.geometry.pieceCount || begin % BLOCK_SIZE !== 0 || begin >= this.pieceLength(index)) return -1;
    return this.blockKey(index, begin / BLOCK_SIZE);
  }

  splitKey(key: number): { index: number; block: number } {
    const index = Math.floor(key / this.blocksPerPiece);
    return { index, block: key - index * this.blocksPerPiece };
  }

  pieceLength(index: number): number {
    if (index < this.geometry.pieceCount - 1) return this.geometry.pieceLength;
    return this.geometry.length - this.geometry.pieceLength * (this.geometry.pieceCount - 1);
  }
}
