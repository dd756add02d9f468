// A torrent's files on disk: created in the torrent's layout under one folder (their new bytes preallocated
// where the file system can, see preallocate.ts, else sparse), written one
// verified piece at a time and read one block at a time, always with explicit positions. Skipped files
// are not created (one already on disk is used as it is); the bytes of a piece that fall in a skipped
// file that is absent go to the parts file (parts-file.ts), and are copied into the file if it is
// un-skipped later.
import * as fs from "node:fs";
import * as path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import { pieceSize, type Metainfo } from "../../shared/metainfo/types.ts";
import { StorageError, storageErrorFrom } from "./errors.ts";
import { FileSet, missingData } from "./file-set.ts";
import { forEachSpan, layoutFiles, type FileSpan } from "./layout.ts";
import { OutputFolder } from "./output-folder.ts";
import { PartsFile, partsFileName } from "./parts-file.ts";
import { Preallocator } from "./preallocate.ts";

type Layout = Pick<Metainfo, "name" | "multiFile" | "files" | "pieceLength" | "pieceCount" | "length"> & Partial<Pick<Metainfo, "infoHash">>;

export interface StorageOptions {
  /** Per file index: true when the file is skipped (not created unless it exists already). */
  skipped?: readonly boolean[];
}

/** The parts file's name: by info hash, or by the torrent's name when the layout has none (tests). */
export function partsNameFor(meta: Layout): string {
  return partsFileName(meta.infoHash ? toHex(meta.infoHash) : meta.name);
}

export class TorrentStorage {
  readonly meta: Layout;
  readonly dir: string;
  readonly #files: FileSet;
  /** Each file's length before open() created or extended it: bytes past it are holes we made. */
  readonly #lengthBefore: number[];
  /** Per file: it exists on disk (wanted files always do; a skipped one only if it was there already). */
  readonly #present: boolean[];
  readonly #parts: PartsFile;
  readonly #folder: OutputFolder;

  private constructor(meta: Layout, dir: string, files: FileSet, lengthBefore: number[], present: boolean[], folder: OutputFolder) {
    this.meta = meta;
    this.dir = dir;
    this.#files = files;
    this.#lengthBefore = lengthBefore;
    this.#present = present;
    this.#folder = folder;
    this.#parts = new PartsFile(files.files, meta.pieceLength, partsNameFor(meta), folder, true);
  }

  /**
   * Creates folders and files (preallocated or sparse, never pre-zeroed) below `dir`, never through a symlink: every
   * path is checked before anything is created, and every open goes through OutputFolder.
   */
  static open(meta: Layout, dir: string, options: StorageOptions = {}): TorrentStorage {
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
      const space = new Preallocator(root);
      // Padding is never created; it counts as there in full (it reads as zeros).
      const skipped = (i: number) => options.skipped?.[i] === true;
      const lengthBefore = files.map((file, i) => (file.padding ? file.length : skipped(i) ? existingLength(folder, file) : createFile(folder, file, space)));
      const present = files.map((file, i) => !file.padding && (!skipped(i) || lengthBefore[i]! >= 0));
      for (let i = 0; i < files.length; i++) lengthBefore[i] = Math.max(0, lengthBefore[i]!);
      folder.release(); // reopened (and checked to be the same folder) at the first read or write
      return new TorrentStorage(meta, root, new FileSet(files, true, folder), lengthBefore, present, folder);
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
      if (this.#isAbsent(i)) this.#parts.write(index, data, at, length, at);
      else this.#files.write(i, data, at, length, position);
    });
  }

  /** writePiece off the calling thread; `data` must stay untouched until the promise settles. */
  writePieceAsync(index: number, data: Uint8Array): Promise<void> {
    this.#checkPiece(index);
    const size = pieceSize(this.meta, index);
    if (data.length !== size) return Promise.reject(new StorageError("bad-range", `piece ${index} is ${size} bytes, got ${data.length}`));
    const writes: Promise<void>[] = [];
    try {
      forEachSpan(this.#files.files, index * this.meta.pieceLength, size, (i, position, length, at) => {
        // A skipped file's share of a boundary piece: small, and rare (two pieces per skipped file at most).
        if (this.#isAbsent(i)) this.#parts.write(index, data, at, length, at);
        else writes.push(this.#files.writeAsync(i, data, at, length, position));
      });
    } catch (error) {
      return Promise.reject(error);
    }
    if (writes.length === 0) return Promise.resolve();
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
      const ok = this.#isAbsent(i) ? this.#parts.read(index, into, intoOffset + at, n, begin + at) : this.#files.read(i, into, intoOffset + at, n, position);
      if (!ok) throw missingData(this.#files.files[i]!, position + n);
    });
  }

  /**
   * The block at `begin` of piece `index` as file regions, in order: `visit(file, fd, position, length)`,
   * fd -1 for padding (zeros). Each real file's fd stays open until `releaseFile(file)`, once per visit.
   * False (after visiting the part before it) when some of it lies in a skipped file, whose bytes are in
   * the parts file: read it with readBlock. Throws `missing-data` when a file is not there.
   */
  blockRegions(index: number, begin: number, length: number, visit: (file: number, fd: number, position: number, length: number) => void): boolean {
    this.#checkPiece(index);
    if (begin < 0 || length < 0 || begin + length > pieceSize(this.meta, index)) {
      throw new StorageError("bad-range", `block ${begin}+${length} is outside piece ${index}`);
    }
    let whole = true;
    forEachSpan(this.#files.files, index * this.meta.pieceLength + begin, length, (i, position, n) => {
      const file = this.#files.files[i]!;
      if (!whole) return;
      if (file.padding) return visit(i, -1, position, n);
      if (this.#isAbsent(i)) {
        whole = false;
        return;
      }
      const fd = this.#files.pin(i);
      if (fd < 0) throw missingData(file, position + n);
      visit(i, fd, position, n);
    });
    return whole;
  }

  releaseFile(file: number): void {
    this.#files.unpin(file);
  }

  /**
   * Files skipped from now on (per index, true: skipped). A skipped file already on disk stays and is
   * used; a file no longer skipped is created, and what the parts file holds of it for pieces in `have`
   * is copied in. Throws StorageError.
   */
  setSkipped(skipped: readonly boolean[], have: (index: number) => boolean): void {
    const files = this.#files.files;
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (skipped[i] || this.#present[i] || file.padding) continue;
      this.#folder.check(file.parts);
      createFile(this.#folder, file, new Preallocator(this.dir));
      this.#present[i] = true;
      this.#copyFromParts(i, have);
    }
  }

  /** Copies file `i`'s bytes of the boundary pieces we have from the parts file into the file. */
  #copyFromParts(i: number, have: (index: number) => boolean): void {
    const file = this.#files.files[i]!;
    if (file.length === 0) return;
    const { pieceLength } = this.meta;
    const first = Math.floor(file.offset / pieceLength);
    const last = Math.floor((file.offset + file.length - 1) / pieceLength);
    for (const index of first === last ? [first] : [first, last]) {
      if (!have(index) || !this.#parts.holds(index)) continue;
      const start = Math.max(file.offset, index * pieceLength);
      const end = Math.min(file.offset + file.length, (index + 1) * pieceLength);
      const bytes = new Uint8Array(end - start);
      if (!this.#parts.read(index, bytes, 0, bytes.length, start - index * pieceLength)) throw missingData(file, end - file.offset);
      this.#files.write(i, bytes, 0, bytes.length, start - file.offset);
    }
  }

  close(): void {
    this.#parts.close();
    this.#files.close();
  }

  /** A real file that is not on disk (skipped): its bytes of a boundary piece live in the parts file. */
  #isAbsent(i: number): boolean {
    return !this.#present[i] && !this.#files.files[i]!.padding;
  }

  #checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.meta.pieceCount) {
      throw new StorageError("bad-range", `piece ${index} is outside 0..${this.meta.pieceCount - 1}`);
    }
  }
}

/** The length of `file` when it exists, else -1 (a skipped file: nothing is created). */
function existingLength(folder: OutputFolder, file: FileSpan): number {
  const fd = folder.open(file.parts, fs.constants.O_RDWR, true);
  if (fd < 0) return -1;
  try {
    return fs.fstatSync(fd).size;
  } catch (error) {
    throw storageErrorFrom(error, file.path);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `file` (and its folders) at its full length; keeps what is already there. The bytes it adds are
 * preallocated (or left sparse where that cannot be done). Returns the file's length before (0 when it did not exist).
 */
function createFile(folder: OutputFolder, file: FileSpan, space: Preallocator): number {
  const fd = folder.open(file.parts, fs.constants.O_RDWR | fs.constants.O_CREAT);
  try {
    const before = fs.fstatSync(fd).size;
    if (before < file.length) {
      fs.ftruncateSync(fd, file.length);
      space.allocate(fd, before, file.length - before);
    }
    return before;
  } catch (error) {
    throw storageErrorFrom(error, file.path);
  } finally {
    fs.closeSync(fd);
  }
}
