// Open file descriptors for a torrent's files, opened lazily and capped (a torrent of thousands of files
// must not exhaust the process's descriptors), with positional reads and writes that loop on short I/O.
import * as fs from "node:fs";
import type { FileSpan } from "./layout.ts";
import { StorageError, storageErrorFrom } from "./errors.ts";

const MAX_OPEN = 128;

export class FileSet {
  readonly files: readonly FileSpan[];
  readonly #writable: boolean;
  /** fileIndex -> fd; Map order is least recently used first. */
  readonly #open = new Map<number, number>();

  constructor(files: readonly FileSpan[], writable: boolean) {
    this.files = files;
    this.#writable = writable;
  }

  /** The fd of file `i`, or -1 when it does not exist and we only read. */
  fd(i: number): number {
    const cached = this.#open.get(i);
    if (cached !== undefined) {
      this.#open.delete(i);
      this.#open.set(i, cached);
      return cached;
    }
    const file = this.files[i]!;
    let fd: number;
    try {
      const flags = (this.#writable ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | fs.constants.O_NOFOLLOW;
      fd = fs.openSync(file.path, flags);
    } catch (error) {
      if (!this.#writable && (error as { code?: string }).code === "ENOENT") return -1;
      throw storageErrorFrom(error, file.path);
    }
    if (this.#open.size >= MAX_OPEN) {
      const [oldest, oldFd] = this.#open.entries().next().value as [number, number];
      this.#open.delete(oldest);
      fs.closeSync(oldFd);
    }
    this.#open.set(i, fd);
    return fd;
  }

  write(i: number, data: Uint8Array, offset: number, length: number, position: number): void {
    const fd = this.fd(i);
    try {
      while (length > 0) {
        const n = fs.writeSync(fd, data, offset, length, position);
        offset += n;
        position += n;
        length -= n;
      }
    } catch (error) {
      throw storageErrorFrom(error, this.files[i]!.path);
    }
  }

  /** Reads exactly `length` bytes; returns false when the file is missing or ends first. */
  read(i: number, into: Uint8Array, offset: number, length: number, position: number): boolean {
    const fd = this.fd(i);
    if (fd < 0) return false;
    try {
      while (length > 0) {
        const n = fs.readSync(fd, into, offset, length, position);
        if (n === 0) return false;
        offset += n;
        position += n;
        length -= n;
      }
    } catch (error) {
      throw storageErrorFrom(error, this.files[i]!.path);
    }
    return true;
  }

  close(): void {
    for (const fd of this.#open.values()) fs.closeSync(fd);
    this.#open.clear();
  }
}

export function missingData(file: FileSpan, position: number): StorageError {
  return new StorageError("missing-data", `${file.path} ends before byte ${position}: the data on disk is incomplete`);
}
