// The kernel side of the server on raw syscalls (ffi-http-server.ts): one epoll set, and the buffers
// its syscalls read and write. Every such buffer is a view of one ArrayBuffer made as such, whose
// storage never moves (a small typed array made alone may move once its .buffer is first asked for,
// and a pointer taken before then goes stale).
import { ipv4Text, ipv6Text } from "./linux-mmsg.ts";
import { EAGAIN, EINTR, EPOLL_EVENT_BYTES, errno, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_NONBLOCK, TcpFfiError, type TcpLibc } from "./linux-tcp.ts";
import { ptr } from "bun:ffi";

/** Connections accepted, and epoll events taken, per turn at most. */
export const BATCH = 128;
/** Bytes one recv takes at most; more waiting is read in the next turn. */
export const RX_BYTES = 64 * 1024;
/** Answers up to this size are copied into one reused send buffer; longer ones are sent from their own. */
const TX_BYTES = 64 * 1024;

export class TcpIo {
  readonly epfd: number;
  private readonly arena = new ArrayBuffer(RX_BYTES + TX_BYTES + 64 + BATCH * EPOLL_EVENT_BYTES + 16);
  private readonly base: number;
  /** What recv read last. */
  readonly rx: Uint8Array;
  /** Where an answer is written to go out with sendTx. */
  readonly tx: Uint8Array;
  private readonly peer: Uint8Array;
  private readonly peerLength: Uint32Array;
  private readonly events: DataView;
  private readonly event: DataView;
  private readonly txAt: number;
  private readonly peerAt: number;
  private readonly peerLengthAt: number;
  private readonly eventsAt: number;
  private readonly eventAt: number;

  /** Closes `lfd` when the epoll set cannot be had. */
  constructor(
    readonly c: TcpLibc,
    lfd: number,
  ) {
    const a = this.arena;
    this.base = ptr(new Uint8Array(a));
    this.rx = new Uint8Array(a, 0, RX_BYTES);
    this.tx = new Uint8Array(a, RX_BYTES, TX_BYTES);
    this.txAt = this.base + RX_BYTES;
    const peerOffset = RX_BYTES + TX_BYTES;
    this.peer = new Uint8Array(a, peerOffset, 28);
    this.peerAt = this.base + peerOffset;
    this.peerLength = new Uint32Array(a, peerOffset + 32, 1);
    this.peerLengthAt = this.base + peerOffset + 32;
    const eventsOffset = peerOffset + 64;
    this.events = new DataView(a, eventsOffset, BATCH * EPOLL_EVENT_BYTES);
    this.eventsAt = this.base + eventsOffset;
    this.event = new DataView(a, eventsOffset + BATCH * EPOLL_EVENT_BYTES, EPOLL_EVENT_BYTES);
    this.eventAt = this.eventsAt + BATCH * EPOLL_EVENT_BYTES;

    this.epfd = c.epoll_create1(SOCK_CLOEXEC);
    if (this.epfd < 0) {
      c.close(lfd);
      throw new TcpFfiError("socket", `epoll_create1 failed, errno ${errno(c)}`);
    }
  }

  control(op: number, fd: number, events: number): void {
    const e = this.event;
    e.setUint32(0, events, true);
    e.setInt32(4, fd, true);
    e.setInt32(8, 0, true);
    this.c.epoll_ctl(this.epfd, op, fd, this.eventAt);
  }

  /** The events ready now, up to BATCH, without waiting; read with eventFd and eventMask. */
  ready(): number {
    return this.c.epoll_wait(this.epfd, this.eventsAt, BATCH, 0);
  }

  eventFd(i: number): number {
    return this.events.getInt32(i * EPOLL_EVENT_BYTES + 4, true);
  }

  eventMask(i: number): number {
    return this.events.getUint32(i * EPOLL_EVENT_BYTES, true);
  }

  /** A connection's descriptor, its peer then in peerAddress; -1 with errno set when none. */
  accept(lfd: number): number {
    this.peerLength[0] = 28;
    return this.c.accept4(lfd, this.peerAt, this.peerLengthAt, SOCK_NONBLOCK | SOCK_CLOEXEC);
  }

  /** The address of the peer accept took last; "" for a family other than IPv4 and IPv6. */
  peerAddress(): string {
    const p = this.peer;
    const family = p[0]! | (p[1]! << 8);
    // Remembered text: no string made per connection, and the store's lookups by it find its hash computed.
    if (family === 2) return ipv4Text(((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0);
    if (family === 10) return ipv6Text(p.subarray(8, 24));
    return "";
  }

  /** recv into rx, as the syscall answers. */
  recv(fd: number): number {
    return this.c.recv(fd, this.base, RX_BYTES, 0);
  }

  /** Bytes the kernel took (0 when its buffer is full), or -1 when the connection failed; `flags` as send(2)'s (MSG_MORE). */
  send(fd: number, bytes: Uint8Array, flags = 0): number {
    if (bytes.length <= TX_BYTES) {
      this.tx.set(bytes);
      return this.sendAt(fd, this.txAt, bytes.length, flags);
    }
    return this.sendAt(fd, ptr(bytes), bytes.length, flags); // used at once, before anything can move it
  }

  /** send() of the first `length` bytes of tx, written there already. */
  sendTx(fd: number, length: number, flags = 0): number {
    return this.sendAt(fd, this.txAt, length, flags);
  }

  private sendAt(fd: number, at: number, length: number, flags: number): number {
    const sent = this.c.send(fd, at, length, MSG_NOSIGNAL | flags);
    if (sent >= 0) return sent;
    const e = errno(this.c);
    return e === EAGAIN || e === EINTR ? 0 : -1;
  }
}
