// Open file descriptors for a torrent's files, opened lazily and capped (a torrent of thousands of files
// must not exhaust the process's descriptors), with positional reads and writes that loop on short I/O.
// Padding files (BEP 47) are never opened: writes to them are dropped and reads give zeros. Every open
// file also counts against the process's budget (open-files.ts), which may close it while it is idle.
// Asynchronous writes (verified pieces) go with O_DIRECT where they can, through a second descriptor of
// the same file (direct-writes.ts); everything else uses the buffered one.
import { ptr } from "bun:ffi";
import * as fs from "node:fs";
import type { FileSpan } from "./layout.ts";
import { DIRECT_ALIGNMENT, directCut, directWritesEnabled, O_DIRECT } from "./direct-writes.ts";
import { StorageError, storageErrorFrom } from "./errors.ts";
import type { OutputFolder } from "./output-folder.ts";
import { type OpenFileOwner, openFiles } from "./open-files.ts";

const MAX_OPEN = 128;
/**
 * Asynchronous writes under way at once, per torrent. With one, the I/O pool sat idle between writes until
 * the main thread, busy receiving, ran the finished write's callback and queued the next; a second one in
 * flight fills that gap. More mostly wait on the file's inode lock, which ext4 holds through a buffered
 * write's copy, spinning on it (with no bound: 10 % of a downloading peer's CPU in rwsem_spin_on_owner).
 */
export const WRITES_AT_ONCE = 2;

export class FileSet implements OpenFileOwner {
  readonly files: readonly FileSpan[];
  readonly #writable: boolean;
  /** fileIndex -> fd; Map order is least recently used first. */
  readonly #open = new Map<number, number>();
  /** fileIndex -> its O_DIRECT descriptor, opened at the file's first aligned write; closed with the buffered one. */
  readonly #direct = new Map<number, number>();
  /**
   * Files whose file system refused O_DIRECT (EINVAL at the open on ramfs, and on tmpfs before Linux 6.6;
   * or at a write): written buffered from then on, without asking again.
   */
  readonly #directRefused = new Set<number>();
  /**
   * Per file index, asynchronous writes under way and blocks being spliced: such an fd is never closed to
   * make room. Counts in an array, not a Map: an upload pins and unpins a file for every block it sends.
   */
  readonly #busy: Int32Array;
  /** The file `fd` returned last, already the most recently used here and in `openFiles`: no reordering. */
  #recent = -1;
  /** Asynchronous writes running now (at most WRITES_AT_ONCE), and those waiting their turn, first first. */
  #writing = 0;
  readonly #waiting: (() => void)[] = [];

  /** Every file is opened through `folder` (never by its path: see output-folder.ts); close() closes it. */
  readonly #folder: OutputFolder;

  constructor(files: readonly FileSpan[], writable: boolean, folder: OutputFolder) {
    this.files = files;
    this.#busy = new Int32Array(files.length);
    this.#writable = writable;
    this.#folder = folder;
  }

  /** The fd of file `i`, or -1 when it does not exist and we only read. */
  fd(i: number): number {
    const cached = this.#open.get(i);
    if (cached !== undefined) {
      // An upload asks for the same file block after block: it is the newest already, unless another
      // torrent's file was used since (openFiles.isNewest).
      if (i === this.#recent && openFiles.isNewest(this, i)) return cached;
      this.#open.delete(i);
      this.#open.set(i, cached);
      openFiles.use(this, i);
      this.#recent = i;
      return cached;
    }
    const file = this.files[i]!;
    // Reopened after being closed to make room: through the folder's descriptor again, so a folder
    // swapped for a symlink meanwhile is refused, not followed.
    const fd = this.#folder.open(file.parts, this.#writable ? fs.constants.O_RDWR : fs.constants.O_RDONLY, !this.#writable);
    if (fd < 0) return -1;
    if (this.#open.size >= MAX_OPEN) {
      for (const [oldest, oldFd] of this.#open) {
        if (this.#busy[oldest]! > 0) continue; // closing it would pull the fd from under a pending write
        this.#close(oldest, oldFd);
        break;
      }
    }
    this.#open.set(i, fd);
    openFiles.use(this, i);
    this.#recent = i;
    return fd;
  }

  /**
   * Closes file `i` for the process's budget unless a write or an upload holds it; the folder's descriptor
   * goes with the last open file (an idle torrent holds none).
   */
  evict(i: number): boolean {
    const fd = this.#open.get(i);
    if (fd === undefined || this.#busy[i]! > 0) return false;
    this.#close(i, fd);
    if (this.#open.size === 0) this.#folder.release();
    return true;
  }

  write(i: number, data: Uint8Array, offset: number, length: number, position: number): void {
    if (this.files[i]!.padding) return; // zeros by definition: never on disk
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

  #close(i: number, fd: number): void {
    this.#open.delete(i);
    if (i === this.#recent) this.#recent = -1;
    fs.closeSync(fd);
    const direct = this.#direct.get(i);
    if (direct !== undefined) {
      this.#direct.delete(i);
      fs.closeSync(direct);
    }
    openFiles.closed(this, i);
  }

  #directAllowed(i: number): boolean {
    return this.#writable && directWritesEnabled() && !this.#directRefused.has(i);
  }

  /** File `i`'s O_DIRECT descriptor (after fd(i) opened the buffered one), or -1 when its file system refuses one. */
  #directFd(i: number): number {
    const cached = this.#direct.get(i);
    if (cached !== undefined) return cached;
    try {
      const fd = this.#folder.open(this.files[i]!.parts, fs.constants.O_RDWR | O_DIRECT);
      this.#direct.set(i, fd);
      return fd;
    } catch {
      // The same file opened buffered a moment ago: what refused this open is O_DIRECT (EINVAL), and the
      // buffered descriptor takes the writes. A real problem with the file shows there.
      this.#directRefused.add(i);
      return -1;
    }
  }

  /**
   * Writes what it can of [offset, offset + length) with O_DIRECT (all of it unless a write comes back
   * short by a non-multiple of the alignment, or the file system refuses it with EINVAL), and returns how
   * many bytes it wrote; the caller writes the rest buffered. Other errors (ENOSPC, EIO) are thrown.
   */
  async #writeDirect(i: number, fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    let done = 0;
    try {
      while (done < length) {
        const n = await writeAt(fd, data, offset + done, length - done, position + done);
        done += n;
        if (n % DIRECT_ALIGNMENT !== 0 || n === 0) break;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== "EINVAL") throw error;
      this.#directRefused.add(i); // a stricter alignment than ours: buffered from now on
    }
    return done;
  }

  /**
   * Like write, on a thread of the runtime's I/O pool: the caller's thread goes on (receiving, hashing)
   * while the kernel writes the bytes (with O_DIRECT where aligned, else into the page cache). `data` must
   * stay untouched until it settles. At most WRITES_AT_ONCE run at a time; the others wait in the order
   * they came.
   */
  writeAsync(i: number, data: Uint8Array, offset: number, length: number, position: number): Promise<void> {
    if (this.files[i]!.padding) return Promise.resolve();
    let fd: number;
    try {
      fd = this.fd(i);
    } catch (error) {
      return Promise.reject(error); // a refused (re)open reaches the caller's handler, not the event loop
    }
    this.#busy[i]!++;
    const run = async () => {
      try {
        // The O_DIRECT descriptor is opened only for a file that has an aligned part to write.
        const cut = this.#directAllowed(i) ? directCut(ptr(data) + offset, position, length) : null;
        const direct = cut ? this.#directFd(i) : -1;
        if (cut && direct >= 0) {
          await writeAll(fd, data, offset, cut.head, position);
          const n = cut.head + (await this.#writeDirect(i, direct, data, offset + cut.head, cut.middle, position + cut.head));
          offset += n;
          position += n;
          length -= n;
        }
        await writeAll(fd, data, offset, length, position);
      } catch (error) {
        throw storageErrorFrom(error, this.files[i]!.path);
      } finally {
        this.#busy[i]!--;
        // The turn passes straight to the next write waiting, so a newcomer cannot slip in between.
        const next = this.#waiting.shift();
        if (next) next();
        else this.#writing--;
      }
    };
    if (this.#writing < WRITES_AT_ONCE) {
      this.#writing++;
      return run();
    }
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(run);
  }

  /**
   * The fd of file `i`, kept open until as many `unpin(i)` as pins (a block queued for sendfile must not
   * have its fd closed, and maybe reused for another file, to make room). -1 when the file is missing.
   */
  pin(i: number): number {
    const fd = this.fd(i);
    if (fd >= 0) this.#busy[i]!++;
    return fd;
  }

  unpin(i: number): void {
    if (this.#busy[i]! > 0) this.#busy[i]!--;
  }

  /** Reads exactly `length` bytes; returns false when the file is missing or ends first. A padding file reads as zeros. */
  read(i: number, into: Uint8Array, offset: number, length: number, position: number): boolean {
    if (this.files[i]!.padding) {
      into.fill(0, offset, offset + length);
      return true;
    }
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
    for (const fd of this.#direct.values()) fs.closeSync(fd);
    this.#open.clear();
    this.#direct.clear();
    openFiles.closedAll(this);
    this.#folder.close();
  }
}

async function writeAll(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  while (length > 0) {
    const n = await writeAt(fd, data, offset, length, position);
    offset += n;
    position += n;
    length -= n;
  }
}

function writeAt(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, data, offset, length, position, (error, n) => (error ? reject(error) : resolve(n))));
}

export function missingData(file: FileSpan, position: number): StorageError {
  return new StorageError("missing-data", `${file.path} ends before byte ${position}: the data on disk is incomplete`);
}
