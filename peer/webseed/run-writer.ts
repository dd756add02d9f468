// Puts a web seed's bytes, in arrival order, into the pool slots of the run of pieces it fetches: each
// byte is copied once, into its place, through the pieces' BlockSink (which refuses every byte once a
// piece was given up), and each finished block is handed to the downloader like a peer's block.
// Blocks that lie wholly in padding are received already (zeros); their bytes are passed over.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { PieceAssembly } from "../pieces/piece-assembly.ts";
import type { PieceProgress } from "../pieces/picker.ts";

/** Hands a finished block (in place in the slot) on; false when its piece is no longer ours to fill. */
export type BlockDone = (progress: PieceProgress<PieceAssembly>, begin: number, length: number) => boolean;

const ZEROS = new Uint8Array(64 * 1024);

export class RunWriter {
  /** Offset of the next byte within the run. */
  private at = 0;
  readonly length: number;

  constructor(
    private readonly run: readonly PieceProgress<PieceAssembly>[],
    private readonly pieceLength: number,
    private readonly blockDone: BlockDone,
  ) {
    this.length = run.reduce((sum, p) => sum + p.length, 0);
  }

  get written(): number {
    return this.at;
  }

  /** Takes the next bytes of the run; false once a piece of it was given up (stop fetching). */
  write(bytes: Uint8Array): boolean {
    let from = 0;
    while (from < bytes.length) {
      if (this.at >= this.length) return false; // more than the run: never written anywhere
      const progress = this.run[Math.floor(this.at / this.pieceLength)]!;
      const inPiece = this.at % this.pieceLength;
      const block = Math.floor(inPiece / BLOCK_SIZE);
      const begin = block * BLOCK_SIZE;
      const blockLength = progress.blockLength(block);
      const n = Math.min(bytes.length - from, begin + blockLength - inPiece);
      const assembly = progress.payload;
      if (!assembly.hasBlock(block)) {
        if (inPiece === begin && !assembly.openStream(begin, blockLength)) return false;
        if (!assembly.writeBlockPart(begin, inPiece - begin, bytes.subarray(from, from + n))) return false;
        if (inPiece + n === begin + blockLength && !this.blockDone(progress, begin, blockLength)) return false;
      }
      from += n;
      this.at += n;
    }
    return true;
  }

  /** The next `length` bytes are padding: zeros. */
  writeZeros(length: number): boolean {
    while (length > 0) {
      const n = Math.min(length, ZEROS.length);
      if (!this.write(ZEROS.subarray(0, n))) return false;
      length -= n;
    }
    return true;
  }
}
