// Where the skipped file's share of a boundary piece goes. A piece that straddles a skipped file and a
// wanted one is fetched whole (the hash covers all of it), but the skipped file is not created; its bytes
// go to one hidden side file in the output folder, `.<info hash>.parts` (libtorrent keeps such a file too).
// Keeping them, rather than fetching the piece and writing only the wanted part, keeps the piece whole on
// disk: it is announced and served like any other, found verified again after a restart, and a file
// un-skipped later gets those bytes copied in instead of fetched again.
//
// Layout: the torrent's edge pieces (those spanning two or more real files, whatever is skipped, so the
// layout never depends on priorities) are numbered in order; edge piece k's bytes lie at k × pieceLength,
// each byte at its own offset within the piece. At most (files − 1) pieces long, written only where used.
import * as fs from "node:fs";
import { storageErrorFrom } from "./errors.ts";
import type { FileSpan } from "./layout.ts";
import type { OutputFolder } from "./output-folder.ts";

/** The pieces that span more than one real (non-padding, non-empty) file, each with its slot. */
export function edgePieces(files: readonly FileSpan[], pieceLength: number): Map<number, number> {
  const firstFileOf = new Map<number, number>();
  const edges = new Set<number>();
  files.forEach((f, i) => {
    if (f.padding || f.length === 0) return;
    const first = Math.floor(f.offset / pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / pieceLength);
    for (const p of first === last ? [first] : [first, last]) {
      const seen = firstFileOf.get(p);
      if (seen === undefined) firstFileOf.set(p, i);
      else if (seen !== i) edges.add(p);
    }
  });
  const slots = new Map<number, number>();
  for (const p of [...edges].sort((a, b) => a - b)) slots.set(p, slots.size);
  return slots;
}

export function partsFileName(infoHashHex: string): string {
  return `.${infoHashHex}.parts`;
}

export class PartsFile {
  readonly #slots: Map<number, number>;
  #fd = -1;

  constructor(
    files: readonly FileSpan[],
    private readonly pieceLength: number,
    /** Its name in the output folder's root. */
    private readonly name: string,
    private readonly folder: OutputFolder,
    private readonly writable: boolean,
  ) {
    this.#slots = edgePieces(files, pieceLength);
  }

  /** Whether piece `index` has a place here (it spans more than one file). */
  holds(index: number): boolean {
    return this.#slots.has(index);
  }

  /** Writes `length` bytes of `data` at `dataOffset`, which are the bytes at `inPiece` of piece `index`. */
  write(index: number, data: Uint8Array, dataOffset: number, length: number, inPiece: number): void {
    let position = this.#position(index, inPiece);
    const fd = this.#open(true);
    try {
      while (length > 0) {
        const n = fs.writeSync(fd, data, dataOffset, length, position);
        dataOffset += n;
        position += n;
        length -= n;
      }
    } catch (error) {
      throw storageErrorFrom(error, this.name);
    }
  }

  /** Reads exactly `length` bytes at `inPiece` of piece `index`; false when they were never written. */
  read(index: number, into: Uint8Array, intoOffset: number, length: number, inPiece: number): boolean {
    if (!this.#slots.has(index)) return false;
    let position = this.#position(index, inPiece);
    const fd = this.#open(false);
    if (fd < 0) return false;
    try {
      while (length > 0) {
        const n = fs.readSync(fd, into, intoOffset, length, position);
        if (n === 0) return false;
        intoOffset += n;
        position += n;
        length -= n;
      }
    } catch (error) {
      throw storageErrorFrom(error, this.name);
    }
    return true;
  }

  close(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  #position(index: number, inPiece: number): number {
    const slot = this.#slots.get(index);
    if (slot === undefined) throw new Error(`piece ${index} spans one file: it has no place in the parts file`);
    return slot * this.pieceLength + inPiece;
  }

  /** Opened on first use, and created only when something is written (-1: it does not exist). */
  #open(create: boolean): number {
    if (this.#fd >= 0) return this.#fd;
    const flags = this.writable ? fs.constants.O_RDWR | (create ? fs.constants.O_CREAT : 0) : fs.constants.O_RDONLY;
    this.#fd = this.folder.open([this.name], flags, !create);
    return this.#fd;
  }
}
