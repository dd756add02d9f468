// A torrent's files on disk: created sparse in the torrent's layout under one folder, written one
// verified piece at a time and read one block at a time, always with explicit positions.
import * as fs from "node:fs";
import * as path from "node:path";
import { pieceSize, type Metainfo } from "../../shared/metainfo/types.ts";
import { StorageError, storageErrorFrom } from "./errors.ts";
import { FileSet, missingData } from "./file-set.ts";
import { forEachSpan, layoutFiles, type FileSpan } from "./layout.ts";
import { OutputFolder } from "./output-folder.ts";

type Layout = Pick<Metainfo, "name" | "multiFile" | "files" | "pieceLength" | "pieceCount" | "length">;

export class TorrentStorage {
  readonly meta: Layout;
  readonly dir: string;
  readonly #files: FileSet;
  /** Each file's length before open() created or extended it: bytes past it are holes we made. */
  readonly #lengthBefore: number[];

  private constructor(meta: Layout, dir: string, files: FileSet, lengthBefore: number[]) {
    this.meta = meta;
    this.dir = dir;
    this.#files = files;
    this.#lengthBefore = lengthBefore;
  }

  /**
   * Creates folders and files (sparse, no pre-zeroing) below `dir`, never through a symlink: every
   * path is checked before anything is created, and every open goes through OutputFolder.
   */
  static open(meta: Layout, dir: string): TorrentStorage {
    const root = path.resolve(dir);
    const files = layoutFiles(meta, root);
    try {
      fs.mkdirSync(root, { recursive: true });
      fs.accessSync(root, fs.constants.W_OK);
    } catch (error) {
      throw storageErrorFrom(error, root);
    }
    const folder = new OutputFolder(root);
    try {
      for (const file of files) if (!file.padding) folder.check(file.parts);
      // Padding is never created; it counts as there in full (it reads as zeros).
      const lengthBefore = files.map((file) => (file.padding ? file.length : createFile(folder, file)));
      return new TorrentStorage(meta, root, new FileSet(files, true, folder), lengthBefore);
    } catch (error) {
      folder.close();
      throw error;
    }
  }

  /**
   * False when every byte of piece `index` outside padding lies in a region open() itself created (a new
   * file, or the extension of a short one): such a piece is known to be missing, and hashing its zeros
   * would only cost time (most of a fresh download's start-up otherwise). A piece of nothing but
   * padding is all zeros, there as it is: worth its one check.
   */
  mayHoldData(index: number): boolean {
    this.#checkPiece(index);
    let found = false;
    let allPadding = true;
    const files = this.#files.files;
    forEachSpan(files, index * this.meta.pieceLength, pieceSize(this.meta, index), (i, position) => {
      if (files[i]!.padding) return;
      allPadding = false;
      if (position < this.#lengthBefore[i]!) found = true;
    });
    return found || allPadding;
  }

  /** Writes a whole verified piece with positional writes, split across file boundaries. */
  writePiece(index: number, data: Uint8Array): void {
    this.#checkPiece(index);
    const size = pieceSize(this.meta, index);
    if (data.length !== size) throw new StorageError("bad-range", `piece ${index} is ${size} bytes, got ${data.length}`);
    forEachSpan(this.#files.files, index * this.meta.pieceLength, size, (i, position, length, at) => {
      this.#files.write(i, data, at, length, position);
    });
  }

  /** writePiece off the calling thread; `data` must stay untouched until the promise settles. */
  writePieceAsync(index: number, data: Uint8Array): Promise<void> {
    this.#checkPiece(index);
    const size = pieceSize(this.meta, index);
    if (data.length !== size) return Promise.reject(new StorageError("bad-range", `piece ${index} is ${size} bytes, got ${data.length}`));
    const writes: Promise<void>[] = [];
    forEachSpan(this.#files.files, index * this.meta.pieceLength, size, (i, position, length, at) => {
      writes.push(this.#files.writeAsync(i, data, at, length, position));
    });
    if (writes.length === 1) return writes[0]!;
    // Settle all before reporting: the caller reuses `data` as soon as this promise settles.
    return Promise.allSettled(writes).then((results) => {
      for (const r of results) if (r.status === "rejected") throw r.reason;
    });
  }

  /** Reads `length` bytes at `begin` of piece `index` into `into` at `intoOffset`, across file boundaries. */
  readBlock(index: number, begin: number, length: number, into: Uint8Array, intoOffset: number): void {
    this.#checkPiece(index);
    if (begin < 0 || length < 0 || begin + length > pieceSize(this.meta, index) || intoOffset + length > into.length) {
      throw new StorageError("bad-range", `block ${begin}+${length} is outside piece ${index}`);
    }
    forEachSpan(this.#files.files, index * this.meta.pieceLength + begin, length, (i, position, n, at) => {
      if (!this.#files.read(i, into, intoOffset + at, n, position)) throw missingData(this.#files.files[i]!, position + n);
    });
  }

  close(): void {
    this.#files.close();
  }

  #checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.meta.pieceCount) {
      throw new StorageError("bad-range", `piece ${index} is outside 0..${this.meta.pieceCount - 1}`);
    }
  }
}

/**
 * Creates `file` (and its folders) at its full length as a sparse file; keeps what is already there.
 * Returns the file's length before (0 when it did not exist).
 */
function createFile(folder: OutputFolder, file: FileSpan): number {
  const fd = folder.open(file.parts, fs.constants.O_RDWR | fs.constants.O_CREAT);
  try {
    const before = fs.fstatSync(fd).size;
    if (before < file.length) fs.ftruncateSync(fd, file.length);
    return before;
  } catch (error) {
    throw storageErrorFrom(error, file.path);
  } finally {
    fs.closeSync(fd);
  }
}
