// The Linux structures recvmmsg and sendmmsg read and write (64-bit x86 and ARM lay them out alike),
// over one ArrayBuffer: a table of `count` messages, each with a data slot, a socket address and one
// iovec. Pure code on a DataView: the syscalls themselves are in bun-udp-ffi.ts, and these layouts
// are tested without them.
import { formatIPv6 } from "../../shared/compact.ts";

export const AF_INET = 2;
export const AF_INET6 = 10;
/** sockaddr_in6, the larger of the two socket addresses a UDP socket reports. */
export const SOCKADDR_BYTES = 28;
const NAME_STRIDE = 32;
const IOVEC_BYTES = 16;
/** struct mmsghdr: a struct msghdr (56 bytes) and the message's length. */
export const MMSGHDR_BYTES = 64;
const HDR_NAME = 0;
const HDR_NAMELEN = 8;
const HDR_IOV = 16;
const HDR_IOVLEN = 24;
const HDR_FLAGS = 48;
const HDR_LEN = 56;
/** msg_flags: the datagram was longer than its slot. */
export const MSG_TRUNC = 0x20;

/**
 * A sender or receiver: for IPv4, `ip4` is the address as a 32-bit number; for IPv6, `ip6` holds the
 * 16 address bytes and `scope` the interface id (link-local addresses need it to be answered).
 */
export type SocketAddress = { family: 4; ip4: number; port: number } | { family: 6; ip6: Uint8Array; scope: number; port: number };

export class MessageTable {
  readonly bytes: Uint8Array;
  /** The same bytes as 32-bit words: every header and iovec field written per message is one, aligned. */
  private readonly words: Uint32Array;
  private readonly view: DataView;
  private readonly namesAt: number;
  private readonly iovsAt: number;
  readonly headersAt: number;
  /** Messages the last receive took: only their address lengths need setting back. */
  private received = 0;

  constructor(
    readonly count: number,
    readonly slotBytes: number,
  ) {
    if (slotBytes % 4 !== 0) throw new RangeError("slots are whole 32-bit words");
    this.namesAt = count * slotBytes;
    this.iovsAt = this.namesAt + count * NAME_STRIDE;
    this.headersAt = this.iovsAt + count * IOVEC_BYTES;
    this.bytes = new Uint8Array(this.headersAt + count * MMSGHDR_BYTES);
    this.words = new Uint32Array(this.bytes.buffer);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Fills in the pointers once the buffer's address `base` is known (it never moves while alive). */
  link(base: number): void {
    const v = this.view;
    for (let i = 0; i < this.count; i++) {
      const iov = this.iovsAt + i * IOVEC_BYTES;
      v.setBigUint64(iov, BigInt(base + i * this.slotBytes), true);
      v.setBigUint64(iov + 8, BigInt(this.slotBytes), true);
      const hdr = this.headersAt + i * MMSGHDR_BYTES;
      v.setBigUint64(hdr + HDR_NAME, BigInt(base + this.namesAt + i * NAME_STRIDE), true);
      v.setUint32(hdr + HDR_NAMELEN, SOCKADDR_BYTES, true);
      v.setBigUint64(hdr + HDR_IOV, BigInt(base + iov), true);
      v.setBigUint64(hdr + HDR_IOVLEN, 1n, true);
    }
  }

  /** Before a recvmmsg: the kernel wrote each received message's address length, so room for the largest again. */
  prepareReceive(): void {
    const w = this.words;
    for (let i = 0; i < this.received; i++) w[(this.headersAt + i * MMSGHDR_BYTES + HDR_NAMELEN) >> 2] = SOCKADDR_BYTES;
  }

  /** After a recvmmsg that took `n` messages. */
  receivedCount(n: number): void {
    this.received = n;
  }

  /** Bytes the kernel reports for message `i` (with MSG_TRUNC passed to recvmmsg, the datagram's real length). */
  length(i: number): number {
    return this.words[(this.headersAt + i * MMSGHDR_BYTES + HDR_LEN) >> 2]!;
  }

  truncated(i: number): boolean {
    return (this.words[(this.headersAt + i * MMSGHDR_BYTES + HDR_FLAGS) >> 2]! & MSG_TRUNC) !== 0;
  }

  /** Message `i`'s data as received: a view of its slot, or, when the datagram was longer than the slot, a copy of its real length (zeros past the slot). */
  data(i: number): Uint8Array {
    const at = i * this.slotBytes;
    const length = this.length(i);
    if (length <= this.slotBytes && !this.truncated(i)) return this.bytes.subarray(at, at + length);
    const whole = new Uint8Array(length);
    whole.set(this.bytes.subarray(at, at + this.slotBytes));
    return whole;
  }

  family(i: number): number {
    const b = this.bytes;
    const at = this.namesAt + i * NAME_STRIDE;
    return b[at]! | (b[at + 1]! << 8);
  }

  port(i: number): number {
    const b = this.bytes;
    const at = this.namesAt + i * NAME_STRIDE + 2;
    return (b[at]! << 8) | b[at + 1]!;
  }

  /** For an AF_INET sender: its address as a 32-bit number. */
  ip4(i: number): number {
    const b = this.bytes;
    const at = this.namesAt + i * NAME_STRIDE + 4;
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  }

  /** For an AF_INET6 sender: its 16 address bytes (a view: read them before the next receive). */
  ip6(i: number): Uint8Array {
    const at = this.namesAt + i * NAME_STRIDE + 8;
    return this.bytes.subarray(at, at + 16);
  }

  /** Message `i`'s socket address, or null for a family other than IPv4 and IPv6. */
  address(i: number): SocketAddress | null {
    const family = this.family(i);
    const at = this.namesAt + i * NAME_STRIDE;
    if (family === AF_INET) return { family: 4, ip4: this.ip4(i), port: this.port(i) };
    if (family === AF_INET6) {
      return { family: 6, ip6: this.bytes.slice(at + 8, at + 24), scope: this.view.getUint32(at + 24, true), port: this.port(i) };
    }
    return null;
  }

  /**
   * Sets message `i` to send the `length` bytes already written in its slot back to the sender of
   * message `j` of `from` (its socket address copied as received, IPv6 scope included).
   */
  setReplyTo(i: number, length: number, from: MessageTable, j: number): void {
    if (length > this.slotBytes) throw new RangeError(`a datagram of ${length} bytes does not fit a ${this.slotBytes}-byte slot`);
    const w = this.words;
    w[(this.iovsAt + i * IOVEC_BYTES + 8) >> 2] = length;
    // The address copied as 32-bit words (names sit on word boundaries): 4 for IPv4, 7 for IPv6.
    const src = (from.namesAt + j * NAME_STRIDE) >> 2;
    const at = (this.namesAt + i * NAME_STRIDE) >> 2;
    const fw = from.words;
    w[at] = fw[src]!;
    w[at + 2] = fw[src + 2]!;
    w[at + 3] = fw[src + 3]!;
    const v6 = from.family(j) === AF_INET6;
    if (v6) {
      // No flow label of ours (bytes 4-7): the received one is not echoed.
      w[at + 1] = 0;
      w[at + 4] = fw[src + 4]!;
      w[at + 5] = fw[src + 5]!;
      w[at + 6] = fw[src + 6]!;
    } else w[at + 1] = fw[src + 1]!;
    w[(this.headersAt + i * MMSGHDR_BYTES + HDR_NAMELEN) >> 2] = v6 ? SOCKADDR_BYTES : 16;
  }

  /** Sets message `i` to send `payload` (at most a slot) to `to`. */
  setOutgoing(i: number, payload: Uint8Array, to: SocketAddress): void {
    if (payload.length > this.slotBytes) throw new RangeError(`a datagram of ${payload.length} bytes does not fit a ${this.slotBytes}-byte slot`);
    const b = this.bytes;
    b.set(payload, i * this.slotBytes);
    const w = this.words;
    w[(this.iovsAt + i * IOVEC_BYTES + 8) >> 2] = payload.length;
    const at = this.namesAt + i * NAME_STRIDE;
    const namelen = (this.headersAt + i * MMSGHDR_BYTES + HDR_NAMELEN) >> 2;
    if (to.family === 4) {
      const ip = to.ip4;
      b[at] = AF_INET;
      b[at + 1] = 0;
      b[at + 2] = to.port >> 8;
      b[at + 3] = to.port & 0xff;
      b[at + 4] = ip >>> 24;
      b[at + 5] = (ip >>> 16) & 0xff;
      b[at + 6] = (ip >>> 8) & 0xff;
      b[at + 7] = ip & 0xff;
      w[namelen] = 16;
    } else {
      writeSockaddr6(this.view, b, at, to.ip6, to.port, to.scope);
      w[namelen] = SOCKADDR_BYTES;
    }
  }
}

function writeSockaddr6(v: DataView, bytes: Uint8Array, at: number, ip6: Uint8Array, port: number, scope: number): void {
  v.setUint16(at, AF_INET6, true);
  v.setUint16(at + 2, port);
  v.setUint32(at + 4, 0);
  bytes.set(ip6, at + 8);
  v.setUint32(at + 24, scope, true);
}

/** A sockaddr for bind(): IPv4 (16 bytes) or IPv6 (28 bytes) from 4 or 16 address bytes. */
export function encodeSockaddr(ip: Uint8Array, port: number): Uint8Array {
  const out = new Uint8Array(ip.length === 4 ? 16 : SOCKADDR_BYTES);
  const v = new DataView(out.buffer);
  if (ip.length === 4) {
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, port);
    out.set(ip, 4);
  } else writeSockaddr6(v, out, 0, ip, port, 0);
  return out;
}

/** The port of a sockaddr (either family) as getsockname() wrote it. */
export function sockaddrPort(sockaddr: Uint8Array): number {
  return new DataView(sockaddr.buffer, sockaddr.byteOffset).getUint16(2);
}

/** Most IPv4 addresses ipv4Text remembers; it starts over when full. */
const REMEMBERED = 4096;
const ipv4Texts = new Map<number, string>();

/** Dotted text of a 32-bit IPv4 address, remembered (a tracker hears from the same addresses again and again). */
export function ipv4Text(ip: number): string {
  let text = ipv4Texts.get(ip);
  if (text === undefined) {
    if (ipv4Texts.size >= REMEMBERED) ipv4Texts.clear();
    text = `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
    ipv4Texts.set(ip, text);
  }
  return text;
}

export function ipv6Text(ip6: Uint8Array): string {
  return formatIPv6(ip6);
}
