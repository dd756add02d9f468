// BEP 47 padding files: runs of zeros a torrent maker puts after a file so that the next one starts on
// a piece boundary (libtorrent's hybrid torrents have them after almost every file). Their content is
// known without asking anyone, so btpeer never creates or writes them, reads them as zeros, and never
// requests a block that lies wholly inside them. A block that is partly padding is still requested:
// its real bytes are needed, and the piece hash covers the zeros too.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";

interface PaddingFile {
  readonly offset: number;
  readonly length: number;
  readonly padding?: boolean;
}

export class PaddingMap {
  /** Padding as sorted, merged [start, end) byte ranges of the torrent's content. */
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];

  constructor(
    files: readonly PaddingFile[],
    private readonly pieceLength: number,
    private readonly length: number,
  ) {
    for (const f of files) {
      if (!f.padding || f.length === 0) continue;
      const last = this.#ends.length - 1;
      if (last >= 0 && this.#ends[last] === f.offset) this.#ends[last] = f.offset + f.length;
      else {
        this.#starts.push(f.offset);
        this.#ends.push(f.offset + f.length);
      }
    }
  }

  get empty(): boolean {
    return this.#starts.length === 0;
  }

  /** True when the bytes [start, start + length) all lie inside padding. */
  covers(start: number, length: number): boolean {
    let lo = 0;
    let hi = this.#starts.length - 1;
    if (hi < 0 || length <= 0) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#starts[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    return this.#starts[lo]! <= start && start + length <= this.#ends[lo]!;
  }

  /** True when block `block` of piece `index` lies wholly inside padding: never requested, zeros. */
  blockIsPadding(index: number, block: number): boolean {
    const start = index * this.pieceLength + block * BLOCK_SIZE;
    const pieceEnd = Math.min(this.length, (index + 1) * this.pieceLength);
    return this.covers(start, Math.min(BLOCK_SIZE, pieceEnd - start));
  }

  /** True when every byte of piece `index` is padding: nothing of it can (or need) be fetched. */
  pieceIsPadding(index: number): boolean {
    const start = index * this.pieceLength;
    return this.covers(start, Math.min(this.length, start + this.pieceLength) - start);
  }
}
