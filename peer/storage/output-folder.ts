// Opening a torrent's files so that nothing is ever created, written or read outside the output folder,
// even when a folder inside it is swapped for a symlink while btpeer runs.
//
// How: the output folder is opened once (a directory descriptor kept for the run), and every file is
// reached from that descriptor one path component at a time with openat(2)/mkdirat(2) and O_NOFOLLOW,
// so a symlink anywhere below the output folder is refused (ELOOP/ENOTDIR), never followed, and no
// rename of the folder's path can redirect an open. Node and Bun have no openat, so it comes from glibc
// through bun:ffi (as peer/net/direct-read.ts does).
// Elsewhere (no glibc), each component is checked with lstat before the open (O_NOFOLLOW on the last one)
// and the opened file is checked against its path afterwards (same device and inode, real parent folder
// inside the output folder), closing and refusing it otherwise: a symlink swapped in beforehand is
// caught; one swapped in and back out between the checks is not. README.md says which holds where.
//
// The output folder's own path may go through symlinks: it is the user's choice; only what lies below it
// comes from the torrent.
import { dlopen, FFIType, read } from "bun:ffi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StorageError, storageErrorFrom } from "./errors.ts";

const O_CLOEXEC = 0o2000000; // the same on every Linux architecture Bun runs on
const AT_REMOVEDIR = 0x200;
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

interface Libc {
  openat(dirFd: number, name: Uint8Array, flags: number, mode: number): number;
  mkdirat(dirFd: number, name: Uint8Array, mode: number): number;
  unlinkat(dirFd: number, name: Uint8Array, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (process.platform !== "linux") return null;
  try {
    const { symbols } = dlopen("libc.so.6", {
      openat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
      mkdirat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      unlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    return {
      openat: (dirFd, name, flags, mode) => symbols.openat(dirFd, name, flags, mode),
      mkdirat: (dirFd, name, mode) => symbols.mkdirat(dirFd, name, mode),
      unlinkat: (dirFd, name, flags) => symbols.unlinkat(dirFd, name, flags),
      close: (fd) => symbols.close(fd),
      errno: () => read.i32(symbols.__errno_location()!),
    };
  } catch {
    return null; // musl or no libc.so.6: the checked fallback
  }
}

/** True when files are opened with openat from the folder's descriptor (the strong guarantee). */
export function confinedOpenAvailable(): boolean {
  if (libc === undefined) libc = loadLibc();
  return libc !== null;
}

const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));

/** An OS error as fs would throw it (with `code`), so storageErrorFrom maps it the usual way. */
function osError(errno: number, what: string): Error {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${code}: ${what}`), { code, errno });
}

const cString = (text: string) => new TextEncoder().encode(`${text}\0`);

export class OutputFolder {
  /** The folder as given, resolved to an absolute path. */
  readonly root: string;
  /** Its real path (symlinks in the user's own path resolved). */
  readonly realRoot: string;
  /** Linux: the folder itself, opened once; every file is reached from it. -1 in the fallback, and while released. */
  #dirFd = -1;
  /** The folder's device and inode when first opened: what a reopen after release() must find again. */
  #identity: { dev: number; ino: number } | null = null;
  #released = false;
  /** Only for reading: the folder does not exist, so neither does any file in it. */
  readonly #absent: boolean = false;

  /** Opens an existing folder (create it first); for reading only, a missing folder may be `missingOk`. */
  constructor(root: string, options: { missingOk?: boolean } = {}) {
    this.root = path.resolve(root);
    try {
      this.realRoot = fs.realpathSync(this.root);
      if (confinedOpenAvailable()) {
        this.#dirFd = fs.openSync(this.realRoot, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
        const st = fs.fstatSync(this.#dirFd);
        this.#identity = { dev: st.dev, ino: st.ino };
      }
    } catch (error) {
      if (!options.missingOk || (error as { code?: string }).code !== "ENOENT") throw storageErrorFrom(error, this.root);
      this.realRoot = this.root;
      this.#absent = true;
    }
  }

  /**
   * Refuses, creating nothing, a path below the folder that already holds a symlink or a file where a
   * folder is needed. Missing components are fine (they will be created).
   */
  check(parts: readonly string[]): void {
    let at = this.realRoot;
    for (let k = 0; k < parts.length; k++) {
      at = path.join(at, parts[k]!);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(at);
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return;
        throw storageErrorFrom(error, at);
      }
      if (stat.isSymbolicLink()) throw symlinkRefused(this.root, parts.slice(0, k + 1));
      if (k < parts.length - 1 && !stat.isDirectory()) throw storageErrorFrom(osError(os.constants.errno.ENOTDIR, at), at);
    }
  }

  /**
   * Opens the file at `parts` below the folder with `flags` (O_NOFOLLOW is added), creating missing
   * folders first when `flags` has O_CREAT. Throws a StorageError; with `missingOk`, returns -1 when a
   * component does not exist instead.
   */
  open(parts: readonly string[], flags: number, missingOk = false): number {
    if (parts.length === 0) throw new StorageError("path-escape", `an empty path is not a file below ${this.root}`);
    if (this.#absent && missingOk) return -1;
    try {
      this.#reacquire();
      return this.#dirFd >= 0 ? this.#openAt(parts, flags) : openChecked(this.realRoot, parts, flags);
    } catch (error) {
      if (missingOk && (error as { code?: string }).code === "ENOENT") return -1;
      if ((error as { code?: string }).code === "ELOOP" || (error as { code?: string }).code === "ENOTDIR") this.#explain(parts);
      throw storageErrorFrom(error, path.join(this.root, ...parts));
    }
  }

  /**
   * Deletes the regular file (or, with `folder`, the empty folder) at `parts` below the folder, reached as
   * open() reaches files: a symlink on the way or at the end is never followed, and one at the end is left
   * where it is (it is not the torrent's file). False when there is nothing of that kind to delete.
   */
  remove(parts: readonly string[], folder = false): boolean {
    if (parts.length === 0 || this.#absent) return false;
    try {
      this.#reacquire();
      if (this.#dirFd < 0) return removeChecked(this.realRoot, parts, folder);
      const c = libc!;
      const dirFlags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW | O_CLOEXEC;
      let dir = this.#dirFd;
      try {
        for (const part of parts.slice(0, -1)) {
          const next = c.openat(dir, cString(part), dirFlags, 0);
          if (next < 0) return false;
          if (dir !== this.#dirFd) c.close(dir);
          dir = next;
        }
        const name = cString(parts[parts.length - 1]!);
        if (folder) return c.unlinkat(dir, name, AT_REMOVEDIR) === 0; // fails on a symlink, a file, or a non-empty folder
        const fd = c.openat(dir, name, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0) return false; // missing, or a symlink (ELOOP)
        const regular = fs.fstatSync(fd).isFile();
        c.close(fd);
        return regular && c.unlinkat(dir, name, 0) === 0;
      } finally {
        if (dir !== this.#dirFd) c.close(dir);
      }
    } catch (error) {
      throw storageErrorFrom(error, path.join(this.root, ...parts));
    }
  }

  /**
   * Lets the folder's descriptor go while nothing needs it (an idle torrent: a daemon holding thousands
   * must not hold a descriptor each). The next open() reopens the folder by its real path and goes on only
   * if it is the very folder first opened (same device and inode): one moved or replaced meanwhile is
   * refused, never followed.
   */
  release(): void {
    if (this.#dirFd < 0) return;
    fs.closeSync(this.#dirFd);
    this.#dirFd = -1;
    this.#released = true;
  }

  close(): void {
    this.#released = false;
    if (this.#dirFd >= 0) fs.closeSync(this.#dirFd);
    this.#dirFd = -1;
  }

  #reacquire(): void {
    if (!this.#released) return;
    const replaced = () =>
      new StorageError("path-escape", `${this.root} is no longer the folder btpeer opened (moved or replaced meanwhile); refusing to use it`);
    let fd: number;
    try {
      fd = fs.openSync(this.realRoot, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW | O_CLOEXEC);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ELOOP" || code === "ENOTDIR") throw replaced(); // a symlink or a file where the folder was
      throw error;
    }
    const st = fs.fstatSync(fd);
    if (st.dev !== this.#identity!.dev || st.ino !== this.#identity!.ino) {
      fs.closeSync(fd);
      throw replaced();
    }
    this.#dirFd = fd;
    this.#released = false;
  }

  /** One component at a time from the folder's descriptor: no symlink followed, no path re-resolved. */
  #openAt(parts: readonly string[], flags: number): number {
    const c = libc!;
    const create = (flags & fs.constants.O_CREAT) !== 0;
    const dirFlags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW | O_CLOEXEC;
    let dir = this.#dirFd;
    try {
      for (let k = 0; k < parts.length - 1; k++) {
        const name = cString(parts[k]!);
        let next = c.openat(dir, name, dirFlags, 0);
        if (next < 0 && create && c.errno() === os.constants.errno.ENOENT) {
          if (c.mkdirat(dir, name, DIR_MODE) < 0 && c.errno() !== os.constants.errno.EEXIST) throw osError(c.errno(), parts.slice(0, k + 1).join("/"));
          next = c.openat(dir, name, dirFlags, 0); // whatever stands there now is checked like anything else
        }
        if (next < 0) throw osError(c.errno(), parts.slice(0, k + 1).join("/"));
        if (dir !== this.#dirFd) c.close(dir);
        dir = next;
      }
      const fd = c.openat(dir, cString(parts[parts.length - 1]!), flags | fs.constants.O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
      if (fd < 0) throw osError(c.errno(), parts.join("/"));
      return fd;
    } finally {
      if (dir !== this.#dirFd) c.close(dir);
    }
  }

  /** A refused component: say which one is a symlink, when one is. */
  #explain(parts: readonly string[]): void {
    for (let k = 1; k <= parts.length; k++) {
      try {
        if (fs.lstatSync(path.join(this.realRoot, ...parts.slice(0, k))).isSymbolicLink()) throw symlinkRefused(this.root, parts.slice(0, k));
      } catch (error) {
        if (error instanceof StorageError) throw error;
        return;
      }
    }
  }
}

/**
 * The fallback without openat (exported for its tests): lstat every folder below `realRoot` (creating
 * missing ones one level at a time when `flags` has O_CREAT), open with O_NOFOLLOW, then check that
 * the file opened is the one at that path and that its folder really is below `realRoot`.
 */
export function openChecked(realRoot: string, parts: readonly string[], flags: number): number {
  const create = (flags & fs.constants.O_CREAT) !== 0;
  let at = realRoot;
  for (const part of parts.slice(0, -1)) {
    at = path.join(at, part);
    if (create && !fs.existsSync(at)) fs.mkdirSync(at, DIR_MODE); // not recursive: through no symlink
    const stat = fs.lstatSync(at);
    if (stat.isSymbolicLink()) throw osError(os.constants.errno.ELOOP, at);
    if (!stat.isDirectory()) throw osError(os.constants.errno.ENOTDIR, at);
  }
  const full = path.join(at, parts[parts.length - 1]!);
  const fd = fs.openSync(full, flags | fs.constants.O_NOFOLLOW, FILE_MODE);
  try {
    const opened = fs.fstatSync(fd);
    const there = fs.lstatSync(full);
    const realParent = fs.realpathSync(path.dirname(full));
    if (opened.dev !== there.dev || opened.ino !== there.ino || realParent !== path.dirname(full)) throw osError(os.constants.errno.ELOOP, full);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/** remove() without openat: lstat each folder on the way and the target itself; nothing through a symlink. */
function removeChecked(realRoot: string, parts: readonly string[], folder: boolean): boolean {
  let at = realRoot;
  for (const part of parts) {
    at = path.join(at, part);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch {
      return false;
    }
    if (stat.isSymbolicLink()) return false;
    if (at !== path.join(realRoot, ...parts) && !stat.isDirectory()) return false;
    if (at === path.join(realRoot, ...parts) && (folder ? !stat.isDirectory() : !stat.isFile())) return false;
  }
  try {
    if (folder) fs.rmdirSync(at);
    else fs.unlinkSync(at);
    return true;
  } catch {
    return false;
  }
}

function symlinkRefused(root: string, parts: readonly string[]): StorageError {
  return new StorageError("path-escape", `${path.join(root, ...parts)} is a symbolic link; btpeer never follows one below the output folder`);
}
