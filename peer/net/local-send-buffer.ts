// To a peer on this host, a socket's send buffer is fixed at 512 KiB (SO_SNDBUF 256 KiB, which the kernel
// doubles and then stops growing) instead of the kernel's own sizing: megabytes on loopback, from the
// moment the connection is established (3.9 MB here before a byte is sent). There is no round trip to
// cover, and a local receiver acks bytes only as it reads them, so a grown buffer is that many bytes
// waiting unread in its socket, out of its CPU's cache by the time it copies them: a libtorrent leecher
// held 2-10 MiB unread from us. Farther away the buffer must cover rate x round trip, so the kernel keeps
// sizing it (a round trip measured here says nothing: on a busy machine loopback's was 0.7 ms).
// Set on the raw socket as it opens (accepted or dialled), before anything reads or writes it: the bound
// needs only the descriptor, so plain, MSE and RC4 connections, spliced or not, all get it.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { isLoopbackAddress } from "./loopback.ts";

/** Asked of SO_SNDBUF for a peer on this host (the kernel doubles it: 512 KiB). */
const LOCAL_SEND_BUFFER = 256 * 1024;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;

type SetSockOpt = (fd: number, level: number, name: number, value: ReturnType<typeof ptr>, length: number) => number;

/** Made on first use; null where there is no glibc (the kernel's own sizing stays). */
let setsockopt: SetSockOpt | null | undefined;
/** The option's value, on an ArrayBuffer of its own, its address taken at each call (see splice.ts). */
const value = new Int32Array(new ArrayBuffer(4));

function load(): SetSockOpt | null {
  if (process.platform !== "linux") return null;
  try {
    const libc = dlopen("libc.so.6", { setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 } });
    return libc.symbols.setsockopt as SetSockOpt;
  } catch {
    return null;
  }
}

/** Bounds the send buffer of `fd` when `remoteIp` is on this host; anything else keeps the kernel's sizing. */
export function boundLocalSendBuffer(fd: number | undefined, remoteIp: string): void {
  if (fd === undefined || fd < 0 || !isLoopbackAddress(remoteIp)) return;
  if (setsockopt === undefined) setsockopt = load();
  if (!setsockopt) return;
  value[0] = LOCAL_SEND_BUFFER;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, ptr(value), 4); // refused: the kernel's own sizing stays
}
