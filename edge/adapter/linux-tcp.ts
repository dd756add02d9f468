// The libc calls of the tracker's own TCP listener on Linux (ffi-http-server.ts), through bun:ffi:
// a listening socket, accept4, recv, send, close and an epoll set. Lengths and results that are
// ssize_t in C are declared i32 here: every buffer passed is far below 2 GiB, and a 64-bit -1 read as
// 32 bits is still -1.
import { dlopen, ptr, read, type Pointer } from "bun:ffi";
import { encodeSockaddr, sockaddrPort } from "./linux-mmsg.ts";

export const EINTR = 4;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOBUFS = 105;
export const ECONNABORTED = 103;
export const MSG_NOSIGNAL = 0x4000;
/**
 * On the last answer of a connection: its bytes wait (corked) for the close or shutdown that follows at
 * once, and go out in one segment with the FIN instead of a data segment then a FIN segment, which
 * also spares the client's ACK of the latter (two packets fewer per close-mode announce on loopback).
 * Bytes the kernel took but could not send yet go out with the next send without it, or at the close.
 */
export const MSG_MORE = 0x8000;
export const SHUT_WR = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
/** struct epoll_event on x86-64 is packed: u32 events, then the u64 data (here the fd). */
export const EPOLL_EVENT_BYTES = 12;

const SOCK_STREAM = 1;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_TCP = 6;
const TCP_DEFER_ACCEPT = 9;
const TCP_CONGESTION = 13;
/** Always allowed to unprivileged processes (net.ipv4.tcp_allowed_congestion_control). */
const RENO = new TextEncoder().encode("reno");
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const LISTEN_BACKLOG = 4096;

export class TcpFfiError extends Error {
  constructor(
    readonly code: "unavailable" | "socket" | "bind",
    message: string,
  ) {
    super(message);
    this.name = "TcpFfiError";
  }
}

function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    listen: { args: ["i32", "i32"], returns: "i32" },
    getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    accept4: { args: ["i32", "ptr", "ptr", "i32"], returns: "i32" },
    recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i32" },
    send: { args: ["i32", "ptr", "u64", "i32"], returns: "i32" },
    close: { args: ["i32"], returns: "i32" },
    shutdown: { args: ["i32", "i32"], returns: "i32" },
    epoll_create1: { args: ["i32"], returns: "i32" },
    epoll_ctl: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
    epoll_wait: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  }).symbols;
}

export type TcpLibc = ReturnType<typeof openLibc>;
let libc: TcpLibc | null = null;

/** libc's functions, loaded once; TcpFfiError "unavailable" off Linux x86-64 (or without glibc). */
export function tcpLibc(): TcpLibc {
  // The epoll_event layout above is x86-64's (other architectures do not pack it).
  if (process.platform !== "linux" || process.arch !== "x64") throw new TcpFfiError("unavailable", `no epoll layout for ${process.platform}/${process.arch}`);
  if (libc === null) {
    try {
      libc = openLibc();
    } catch (err) {
      throw new TcpFfiError("unavailable", `cannot load libc.so.6: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return libc;
}

export function errno(c: TcpLibc): number {
  return read.i32(c.__errno_location() as Pointer, 0);
}

/**
 * A non-blocking listening socket on `ip` (4 or 16 bytes) and `port`; throws TcpFfiError. With
 * TCP_DEFER_ACCEPT the kernel hands over a connection once its first bytes arrived (or a few
 * seconds passed), so a fresh connection's request can be read at once, without waiting for it.
 * Its connections use Reno (see below).
 */
export function listenTcp(c: TcpLibc, ip: Uint8Array, port: number): { fd: number; port: number } {
  const family = ip.length === 4 ? 2 : 10;
  const fd = c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new TcpFfiError("socket", `socket() failed, errno ${errno(c)}`);
  const one = new Int32Array([1]);
  c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ptr(one), 4);
  c.setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, ptr(one), 4);
  // Accepted connections inherit the listener's congestion control. A tracker's answer fits in the
  // first window, so none ever acts; but BBR, the default on many servers, paces every socket: a
  // timer armed per connection. Reno costs nothing. Where it cannot be set, the system's stays.
  c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, ptr(RENO), RENO.length);
  // "::" takes IPv4 connections too (as IPv4-mapped addresses), whatever the system's default.
  if (family === 10) c.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ptr(new Int32Array([0])), 4);
  const name = encodeSockaddr(ip, port);
  if (c.bind(fd, ptr(name), name.length) !== 0 || c.listen(fd, LISTEN_BACKLOG) !== 0) {
    const e = errno(c);
    c.close(fd);
    throw new TcpFfiError("bind", `cannot listen on TCP port ${port}: errno ${e}${e === 98 ? " (address in use)" : ""}`);
  }
  const bound = new Uint8Array(28);
  c.getsockname(fd, ptr(bound), ptr(new Uint32Array([bound.length])));
  return { fd, port: sockaddrPort(bound) };
}
