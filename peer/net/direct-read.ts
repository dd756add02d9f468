// Reading a socket straight into one reused buffer. Bun hands each socket `data` event a freshly
// allocated copy of what it read (up to 512 KiB): at hundreds of MB/s that is one copy and one page-faulted
// allocation per byte received, and garbage that piles up faster than the collector frees it. So after
// handling the chunk Bun gave us, a connection reads whatever else the kernel already holds for it itself,
// with recv(2) through bun:ffi, into STAGING, which every connection shares (the receive side copies out
// of a chunk before it returns, so one buffer is enough). Bun's own read still wakes us when data arrives;
// its socket stays level-triggered, so bytes we leave behind wake it again.
//
// Linux with glibc only; anywhere else, or with BTPEER_DIRECT_READ=0, nothing is read here and Bun's chunks
// carry everything (same bytes, same order, more garbage).
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const STAGING_BYTES = 256 * 1024;
/** Read at most this much per `data` event, so one fast peer cannot hold up the others or the timers. */
export const DIRECT_READ_PER_EVENT = 4 * 1024 * 1024;
const MSG_DONTWAIT = 0x40;
const EINTR = 4;

interface Libc {
  recv(fd: number, buffer: number, length: number, flags: number): number | bigint;
  errno(): number;
}

let libc: Libc | null | undefined;
let staging: Uint8Array;
let stagingPointer: number;

function loadLibc(): Libc | null {
  if (process.platform !== "linux" || process.env.BTPEER_DIRECT_READ === "0") return null;
  try {
    const { symbols } = dlopen("libc.so.6", {
      recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    staging = new Uint8Array(STAGING_BYTES);
    stagingPointer = ptr(staging);
    return {
      recv: (fd, buffer, length, flags) => symbols.recv(fd, buffer, length, flags),
      errno: () => read.i32(symbols.__errno_location()!),
    };
  } catch {
    return null; // no glibc (musl, another OS): Bun's chunks carry everything
  }
}

/** True when `readAvailable` can read sockets itself on this system. */
export function directReadAvailable(): boolean {
  if (libc === undefined) libc = loadLibc();
  return libc !== null;
}

/**
 * Reads what the kernel already holds for socket `fd` without waiting, up to `DIRECT_READ_PER_EVENT`
 * bytes, handing each read to `consume` (the view is reused right after it returns). Stops early when
 * `consume` returns false (the connection closed). End of stream and socket errors are left for Bun's
 * next read to report: recv returns 0 or the error again there. Returns the bytes read.
 */
export function readAvailable(fd: number, consume: (bytes: Uint8Array) => boolean): number {
  if (!directReadAvailable() || fd < 0) return 0;
  const c = libc!;
  let total = 0;
  while (total < DIRECT_READ_PER_EVENT) {
    const n = Number(c.recv(fd, stagingPointer, STAGING_BYTES, MSG_DONTWAIT));
    if (n <= 0) {
      if (n < 0 && c.errno() === EINTR) continue;
      break; // EAGAIN (nothing more yet), end of stream or an error: Bun's read sees the last two
    }
    total += n;
    if (!consume(staging.subarray(0, n))) break;
  }
  return total;
}
