// A UDP socket of our own through bun:ffi on Linux: batches of datagrams in and out with one
// recvmmsg and one sendmmsg call each, into and out of MessageTables (linux-mmsg.ts). Bun's own
// socket runs a JS callback with a fresh Buffer and address string for every datagram, which
// profiling showed to cost about as much per announce as opentracker's whole reply.
import { dlopen, ptr, read, type Pointer } from "bun:ffi";
import { encodeSockaddr, MMSGHDR_BYTES, type MessageTable, sockaddrPort } from "./linux-mmsg.ts";

const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_SNDBUF = 7;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const POLLIN = 1;
const EAGAIN = 11;
const EINTR = 4;
/** Kernel buffers asked for (the kernel caps them at net.core.rmem_max / wmem_max): room for a burst. */
const SOCKET_BUFFER_BYTES = 4 << 20;

export type UdpFfiErrorCode = "unavailable" | "socket" | "bind";

export class UdpFfiError extends Error {
  constructor(
    readonly code: UdpFfiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UdpFfiError";
  }
}

function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
    getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    recvmmsg: { args: ["i32", "ptr", "u32", "i32", "ptr"], returns: "i32" },
    sendmmsg: { args: ["i32", "ptr", "u32", "i32"], returns: "i32" },
    poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
    close: { args: ["i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  }).symbols;
}

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null = null;

/** libc's functions, loaded once per thread; UdpFfiError "unavailable" off Linux (or without glibc). */
export function linuxLibc(): Libc {
  if (process.platform !== "linux") throw new UdpFfiError("unavailable", `no recvmmsg on ${process.platform}`);
  if (libc === null) {
    try {
      libc = openLibc();
    } catch (err) {
      throw new UdpFfiError("unavailable", `cannot load libc.so.6: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return libc;
}

function errno(c: Libc): number {
  return read.i32(c.__errno_location() as Pointer, 0);
}

/** A bound UDP socket; `ip` is 4 or 16 address bytes. Throws UdpFfiError. */
export class FfiUdpSocket {
  readonly fd: number;
  readonly port: number;
  private readonly c: Libc;
  private closed = false;

  constructor(ip: Uint8Array, port: number) {
    const c = linuxLibc();
    this.c = c;
    const family = ip.length === 4 ? 2 : 10;
    const fd = c.socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new UdpFfiError("socket", `socket() failed, errno ${errno(c)}`);
    this.fd = fd;
    const size = new Int32Array([SOCKET_BUFFER_BYTES]);
    // Best effort: a smaller buffer only means more drops in a burst, as with any UDP socket.
    c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(size), 4);
    c.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, ptr(size), 4);
    const name = encodeSockaddr(ip, port);
    if (c.bind(fd, ptr(name), name.length) !== 0) {
      const e = errno(c);
      c.close(fd);
      throw new UdpFfiError("bind", `cannot bind UDP port ${port}: errno ${e}${e === 98 ? " (address in use)" : ""}`);
    }
    const bound = new Uint8Array(28);
    const boundLength = new Uint32Array([bound.length]);
    c.getsockname(fd, ptr(bound), ptr(boundLength));
    this.port = sockaddrPort(bound);
  }

  /**
   * Takes the datagrams waiting, at most `table.count`, without blocking: how many (0 when none).
   * MSG_TRUNC makes each message's length the datagram's real one, so a longer one is seen as such.
   */
  receive(table: MessageTable, base: number): number {
    if (this.closed) return 0;
    table.prepareReceive();
    const n = this.c.recvmmsg(this.fd, (base + table.headersAt) as Pointer, table.count, MSG_DONTWAIT | MSG_TRUNC, null);
    table.receivedCount(Math.max(n, 0));
    if (n >= 0) return n;
    const e = errno(this.c);
    // Anything but "nothing waiting" was one datagram's error (an ICMP report, say), now consumed.
    return e === EAGAIN || e === EINTR ? 0 : -1;
  }

  /** Sends messages 0..n-1 of `table`; a message the kernel refuses is skipped (UDP: the client asks again). */
  send(table: MessageTable, base: number, n: number): void {
    let from = 0;
    while (from < n && !this.closed) {
      const sent = this.c.sendmmsg(this.fd, (base + table.headersAt + from * MMSGHDR_BYTES) as Pointer, n - from, MSG_DONTWAIT);
      from += sent > 0 ? sent : 1;
    }
  }

  /** Blocks until a datagram waits or `timeoutMs` passes; true if one waits. For the poller thread. */
  static waitReadable(c: Libc, pollfd: Uint8Array, timeoutMs: number): boolean {
    return c.poll(ptr(pollfd), 1, timeoutMs) > 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c.close(this.fd);
  }
}

/** struct pollfd for one socket waiting for input. */
export function pollfdFor(fd: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, fd, true);
  v.setInt16(4, POLLIN, true);
  return out;
}

/** The address of a table's buffer (it never moves while the table lives), its pointers filled in. */
export function linkTable(table: MessageTable): number {
  const base = ptr(table.bytes) as number;
  table.link(base);
  return base;
}
