// Piece data from files to a socket without copying it through this process: splice(2) through bun:ffi.
// Each connection gets a pipe; a block's 13-byte header is written into it and the block's file range is
// spliced in after it (the pipe then holds references to page-cache pages, not copies), and whole runs
// of blocks are spliced from the pipe into the socket in one call. Per-block sendfile(2) was measured
// first: with a header between every 16 KiB block, its per-call cost (a socket send per block) took more
// CPU than reading into buffers; through the pipe, the socket sees one send per span of blocks.
// Linux with glibc only; elsewhere, or with BTPEER_SPLICE=0, `spliceOps()` is null and blocks are read
// into buffers as before.
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const EAGAIN = 11;
const EINTR = 4;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const SPLICE_F_MOVE = 1;
const SPLICE_F_NONBLOCK = 2;
/** Asked of the kernel for each connection's pipe (the default, /proc/sys/fs/pipe-max-size, allows it). */
const PIPE_BYTES = 1024 * 1024;
export const PAGE = 4096;

export class SpliceError extends Error {
  override readonly name = "SpliceError";
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed with errno ${errno}`);
  }
}

export interface Pipe {
  readFd: number;
  writeFd: number;
  /** Its capacity in pages (the kernel counts a pipe's room in buffers of up to a page each). */
  pages: number;
}

export interface SpliceOps {
  /** A non-blocking pipe as large as the kernel allows (up to 1 MiB), or null when none can be made. */
  openPipe(): Pipe | null;
  closePipe(pipe: Pipe): void;
  /** Moves `length` bytes of file `fd` from `position` into the pipe (all of them: the caller made room). */
  fileToPipe(fd: number, position: number, pipe: Pipe, length: number): void;
  /** Copies `bytes` into the pipe (headers, padding zeros, a fallback read). */
  bytesToPipe(bytes: Uint8Array, pipe: Pipe): void;
  /** Moves up to `length` bytes from the pipe to the socket: the bytes moved, 0 when the socket is full (EAGAIN). */
  pipeToSocket(pipe: Pipe, socketFd: number, length: number): number;
  /** Takes the pipe's next byte out into `into[0]`. */
  takeByte(pipe: Pipe, into: Uint8Array): void;
}

/** Payload and header bytes spliced from pipes into sockets in this process (for tests). */
export const spliceCounter = { bytes: 0 };

let ops: SpliceOps | null | undefined;

function load(): SpliceOps | null {
  if (process.platform !== "linux" || process.env.BTPEER_SPLICE === "0") return null;
  let libc;
  try {
    libc = dlopen("libc.so.6", {
      pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      splice: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.u32], returns: FFIType.i64_fast },
      write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
      read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
  } catch {
    return null; // no glibc: blocks go through buffers
  }
  const c = libc.symbols;
  const errno = () => read.i32(c.__errno_location()!);
  // Cells the kernel reads or writes, each on an ArrayBuffer of its own and its address taken at each
  // call, never cached: the collector may move a small typed array's storage, and a cached address then
  // points at memory the array left (seen with a cached iovec list on branch recv-slot: the kernel filled
  // an earlier read's regions). Here that would be a stale file offset, so blocks from the wrong place.
  const fds = new Int32Array(new ArrayBuffer(8));
  // loff_t in and out for splice's file side: one cell serves every call. Written as a BigInt: the same
  // cell as two Uint32Array halves once sent stale offsets (blocks from the wrong place, seen as failed
  // pieces in the tests), at the time blamed on the JIT; a cached address was taken then too.
  const offset = new BigInt64Array(new ArrayBuffer(8));
  /** A negative result's errno, after EINTR (0: call again). */
  const failure = (name: string): 0 => {
    const e = errno();
    if (e !== EINTR) throw new SpliceError(name, e);
    return 0;
  };
  return {
    openPipe() {
      if (c.pipe2(ptr(fds), O_NONBLOCK | O_CLOEXEC) !== 0) return null;
      const pipe = { readFd: fds[0]!, writeFd: fds[1]!, pages: 0 };
      c.fcntl(pipe.writeFd, F_SETPIPE_SZ, PIPE_BYTES); // may be refused (limits): the size below says what we got
      pipe.pages = Math.max(0, c.fcntl(pipe.writeFd, F_GETPIPE_SZ, 0)) / PAGE;
      return pipe;
    },
    closePipe(pipe) {
      c.close(pipe.readFd);
      c.close(pipe.writeFd);
    },
    fileToPipe(fd, position, pipe, length) {
      let moved = 0;
      while (moved < length) {
        const at = position + moved;
        offset[0] = BigInt(at);
        const n = Number(c.splice(fd, ptr(offset), pipe.writeFd, null, length - moved, SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
        if (n === 0) throw new SpliceError("splice", 0); // end of file: shorter than the torrent says
        moved += n > 0 ? n : failure("splice");
      }
    },
    bytesToPipe(bytes, pipe) {
      for (let at = 0; at < bytes.length; ) {
        const n = Number(c.write(pipe.writeFd, ptr(bytes, at), bytes.length - at));
        at += n >= 0 ? n : failure("write");
      }
    },
    pipeToSocket(pipe, socketFd, length) {
      for (;;) {
        const n = Number(c.splice(pipe.readFd, null, socketFd, null, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
        if (n > 0) {
          spliceCounter.bytes += n;
          return n;
        }
        const e = n === 0 ? 0 : errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) return 0;
        throw new SpliceError("splice to socket", e);
      }
    },
    takeByte(pipe, into) {
      for (;;) {
        const n = Number(c.read(pipe.readFd, ptr(into), 1));
        if (n === 1) return;
        if (n === 0) throw new SpliceError("read", 0);
        failure("read");
      }
    },
  };
}

/** splice(2) when this system has it, else null. */
export function spliceOps(): SpliceOps | null {
  if (ops === undefined) ops = load();
  return ops;
}
