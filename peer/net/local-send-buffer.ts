// To a peer on this host, a socket's send buffer is fixed at 512 KiB (SO_SNDBUF 256 KiB, which the kernel
// doubles and then stops growing) instead of the kernel's own sizing: megabytes on loopback, from the
// moment the connection is established (3.9 MB here before a byte is sent). There is no round trip to
// cover, and a local receiver acks bytes only as it reads them, so a grown buffer is that many bytes
// waiting unread in its socket, out of its CPU's cache by the time it copies them: a libtorrent leecher
// held 2-10 MiB unread from us. Farther away the buffer must cover rate x round trip, so the kernel keeps
// sizing it (a round trip measured here says nothing: on a busy machine loopback's was 0.7 ms).
// Set on the raw socket as it opens (accepted or dialled), before anything reads or writes it: the bound
// needs only the descriptor, so plain, MSE and RC4 connections, spliced or not, all get it.
//
// Nor are those sockets paced. With BBR as the system's congestion control (and no fq qdisc), TCP paces
// every connection itself: on loopback that is an hrtimer armed and fired for about every other segment
// (10,000 per GiB sent), each reprogramming the timer device, which on this VM traps to the hypervisor:
// 22% of a btpeer seeder's main thread sampled inside it. A socket is paced from the moment its congestion
// control first starts (BBR marks it so for good), so the listener itself is given reno before any
// connection arrives: accepted sockets inherit it and are never paced. One from elsewhere gets the
// system's own congestion control back as it opens, before a byte is sent. Dialled connections are
// paced as before (Bun connects before we hold the descriptor).
import fs from "node:fs";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { isLoopbackAddress } from "./loopback.ts";

/** Asked of SO_SNDBUF for a peer on this host (the kernel doubles it: 512 KiB). */
const LOCAL_SEND_BUFFER = 256 * 1024;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const IPPROTO_TCP = 6;
const TCP_CONGESTION = 13;

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

/**
 * Bounds the send buffer of `fd` when `remoteIp` is on this host; anything else keeps the kernel's sizing,
 * and, `accepted` by a listener given reno, the system's congestion control.
 */
export function boundLocalSendBuffer(fd: number | undefined, remoteIp: string, accepted = false): void {
  if (fd === undefined || fd < 0) return;
  if (!isLoopbackAddress(remoteIp)) {
    if (accepted) restoreCongestionControl(fd);
    return;
  }
  if (setsockopt === undefined) setsockopt = load();
  if (!setsockopt) return;
  value[0] = LOCAL_SEND_BUFFER;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, ptr(value), 4); // refused: the kernel's own sizing stays
}

/** A congestion control's name, NUL-terminated, on an ArrayBuffer of its own (as `value`). */
function cString(name: string): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(name.length + 1));
  bytes.set(new TextEncoder().encode(name));
  return bytes;
}

const UNPACED = cString("reno");
/** The system's congestion control, as accepted sockets from elsewhere get it back; null: unknown (nothing is changed). */
let systemDefault: Uint8Array | null | undefined;
/** Listeners given reno, whose accepted sockets from elsewhere need the system's own back. */
let listenersChanged = false;

function systemCongestionControl(): Uint8Array | null {
  if (systemDefault === undefined) {
    try {
      systemDefault = cString(fs.readFileSync("/proc/sys/net/ipv4/tcp_congestion_control", "utf8").trim());
    } catch {
      systemDefault = null;
    }
  }
  return systemDefault;
}

/**
 * Gives listening socket `fd` reno, so that the connections it accepts start unpaced; only where the
 * system's own congestion control can be given back to those from elsewhere (`boundLocalSendBuffer`).
 */
export function unpacedListener(fd: number | undefined): void {
  if (fd === undefined || fd < 0 || systemCongestionControl() === null) return;
  if (setsockopt === undefined) setsockopt = load();
  if (!setsockopt) return;
  if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, ptr(UNPACED), UNPACED.length - 1) === 0) listenersChanged = true;
}

function restoreCongestionControl(fd: number): void {
  const name = listenersChanged ? systemCongestionControl() : null;
  if (!name || !setsockopt) return;
  setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, ptr(name), name.length - 1);
}
