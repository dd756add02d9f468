// Pieces fetched whole by one source alone (a web seed, see PiecePicker.claimRun), beside the peers that are
// asked block by block: which source holds which piece, how many pool slots they may take, and what happens
// to a run when its source puts blocks in place or stops.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { WholePieceSource } from "./downloader.ts";
import type { PieceAssembly } from "./piece-assembly.ts";
import type { PiecePicker, PieceProgress } from "./picker.ts";

/** What whole-piece sources need of the downloader they fetch for. */
export interface WholePiecesHost {
  readonly picker: PiecePicker<PieceAssembly>;
  /** A new piece in a pool slot, or null when none may start now (no slot free, too many being written). */
  startPiece(index: number, length: number): PieceAssembly | null;
  /** True while piece `index` is being checked or written. */
  writingPiece(index: number): boolean;
  /** Every block of the piece is in: check and write it. */
  finish(progress: PieceProgress<PieceAssembly>): void;
  /** `bytes` of payload were accepted into a piece. */
  received(bytes: number): void;
  /** The piece goes back to the picker and its slot to the pool. */
  giveUp(progress: PieceProgress<PieceAssembly>): void;
  fillAll(): void;
}

export class WholePieces {
  /** Pieces whole-piece sources are fetching (or whose check or write is under way), by index. */
  readonly #sources = new Map<number, WholePieceSource>();

  constructor(private readonly host: WholePiecesHost) {}

  has(index: number): boolean {
    return this.#sources.has(index);
  }

  /** The source that fetched `index`, if any; it no longer holds the piece. */
  take(index: number): WholePieceSource | undefined {
    const source = this.#sources.get(index);
    this.#sources.delete(index);
    return source;
  }

  forget(index: number): void {
    this.#sources.delete(index);
  }

  /**
   * Up to `maxPieces` consecutive pieces for `source`, each in its own slot of a pool of `slotCount`. Such
   * sources hold at most half the pool together, so peers always find slots to start pieces in.
   */
  claimRun(source: WholePieceSource, maxPieces: number, slotCount: number): PieceProgress<PieceAssembly>[] {
    const cap = Math.max(1, Math.floor(slotCount / 2));
    return this.host.picker.claimRun(source, maxPieces, (index, length) => {
      if (this.#sources.size >= cap) return null;
      const assembly = this.host.startPiece(index, length);
      if (assembly) this.#sources.set(index, source);
      return assembly;
    });
  }

  /**
   * The source put block `begin` of its piece in place in the slot (BlockSink). False when the piece is no
   * longer its own to fill (given up meanwhile).
   */
  blockReceived(source: WholePieceSource, progress: PieceProgress<PieceAssembly>, begin: number, length: number): boolean {
    const picker = this.host.picker;
    if (picker.inProgress.get(progress.index) !== progress || progress.owner !== source.id) return false;
    if (!picker.blockReceived(progress.index, begin / BLOCK_SIZE, source)) return false;
    if (!progress.payload.addBlock(begin, progress.payload.endStream(begin, length))) return false;
    this.host.received(length);
    if (progress.receivedCount === progress.blockCount) this.host.finish(progress);
    return true;
  }

  /** The source stopped (an error, a timeout): its unfinished pieces go back to the picker for anyone. */
  release(source: WholePieceSource, run: readonly PieceProgress<PieceAssembly>[]): void {
    let released = false;
    for (const progress of run) {
      const index = progress.index;
      if (this.host.picker.inProgress.get(index) !== progress || progress.owner !== source.id || this.host.writingPiece(index)) continue;
      this.#sources.delete(index);
      this.host.giveUp(progress);
      released = true;
    }
    if (released) this.host.fillAll();
  }
}
