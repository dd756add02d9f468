// Outgoing bytes for one socket, in order. Bun's `socket.write` may take only part of a buffer when the
// kernel's send buffer is full: the rest waits here (as a view, not a copy, when the caller hands over the
// buffer) and goes out on `drain`. On Linux, piece messages can skip this process altogether: their
// headers and file ranges go into the connection's pipe at once (see splice.ts), and the queue holds only
// how many of the pipe's bytes each message is, in line with the other messages; at its turn a message is
// spliced from the pipe into the socket, resuming where a full socket cut it short. Bun knows nothing of
// what splice does on its socket, so when the socket is full the pipe's next byte is written the ordinary
// way: Bun sees that write fall short and wakes us with `drain` once the socket takes bytes again.
import { type Pipe, PAGE, type SpliceOps, spliceOps } from "./splice.ts";

export interface WritableSocket {
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
}

/** A block's bytes in a file (fd -1: padding, zeros). */
export interface FileRegion {
  file: number;
  fd: number;
  position: number;
  length: number;
}

interface Pending {
  /** Bytes to send, or null for bytes waiting in the pipe. */
  bytes: Uint8Array | null;
  /** Bytes already sent. */
  offset: number;
  length: number;
  /** Pipe pages this message holds until it is sent. */
  pages: number;
  /** Called once the last byte is handed to the kernel (e.g. to release a pooled upload buffer). */
  done: (() => void) | undefined;
}

export class WriteQueue {
  private readonly pending: Pending[] = [];
  private head = 0;
  /** Bytes accepted but not yet taken by the kernel. */
  queuedBytes = 0;
  closed = false;
  private readonly splice: SpliceOps | null;
  /** Made on first use; null when none could be made. */
  private pipe: Pipe | null | undefined;
  /** The descriptor the pipe drains into, fixed when the pipe is made. */
  private target = -1;
  private pipePagesUsed = 0;
  private pipeBroken = false;
  /** The pipe's next byte, taken out to arm Bun's `drain`, when Bun did not take it: it goes first. */
  private readonly carry = new Uint8Array(1);
  private carrying = false;
  /**
   * Blocks put in the pipe while nothing else waited, not yet sent: a span's blocks leave together at
   * `flushBlocks`, in one splice whose segments the kernel fills (one splice per block sent each block as a
   * segment of its own, and the receiver pays per segment).
   */
  private unflushed = false;

  constructor(
    private readonly socket: WritableSocket,
    /** A piece could not be put in the pipe whole (its file is gone or short): the connection cannot go on. */
    private readonly blockFailed: (error: unknown) => void = () => {},
    /**
     * The descriptor under `socket` that bytes may be written to directly, in order with `socket.write`
     * (undefined: none now, e.g. an RC4 payload); none given: never splice.
     */
    private readonly rawFd: () => number | undefined = () => undefined,
  ) {
    this.splice = spliceOps();
  }

  /** True while piece blocks may go through the pipe (false: callers read blocks into buffers). */
  get sendsFiles(): boolean {
    if (this.splice === null || this.pipe === null || this.pipeBroken || this.closed) return false;
    const fd = this.rawFd();
    return fd !== undefined && fd >= 0 && (this.pipe === undefined || fd === this.target);
  }

  /**
   * Sends `bytes`. With `done`, the caller hands the buffer over until `done` runs; without it the buffer
   * is borrowed, so an unsent tail is copied (only ever small control frames take this path).
   */
  send(bytes: Uint8Array, done?: () => void): void {
    if (this.closed) {
      done?.();
      return;
    }
    if (this.unflushed) {
      // Behind blocks not yet sent: queued after them, and everything goes now.
      this.pending.push({ bytes: done ? bytes : bytes.slice(), offset: 0, length: bytes.length, pages: 0, done });
      this.queuedBytes += bytes.length;
      this.flushBlocks();
      return;
    }
    let offset = 0;
    if (this.head === this.pending.length) {
      const written = this.socket.write(bytes, 0, bytes.length);
      if (written < 0) {
        this.closed = true;
        done?.();
        return;
      }
      offset = written;
      if (offset === bytes.length) {
        done?.();
        return;
      }
    }
    const tail = done ? bytes : bytes.slice(offset);
    this.pending.push({ bytes: tail, offset: done ? offset : 0, length: tail.length, pages: 0, done });
    this.queuedBytes += bytes.length - offset;
  }

  /**
   * One piece message: `header` (13 bytes, borrowed) and its block as `regions` (the first `count`), put in the pipe now and
   * sent in turn, at the latest by `flushBlocks` (call it once the span's blocks are queued). False, with
   * nothing sent, when the pipe has no room for it (send it from a buffer).
   * The regions' files may be closed as soon as this returns: the pipe holds their pages.
   */
  sendFileBlock(header: Uint8Array, regions: readonly FileRegion[], count: number): boolean {
    if (!this.sendsFiles) return false;
    const pipe = this.openPipe();
    if (!pipe) return false;
    // Each write or splice may start a new pipe buffer, and a range spans one page more than its length.
    let pages = 1;
    let length = header.length;
    for (let i = 0; i < count; i++) {
      pages += Math.ceil(regions[i]!.length / PAGE) + 1;
      length += regions[i]!.length;
    }
    if (this.pipePagesUsed + pages > pipe.pages) return false;
    const splice = this.splice!;
    try {
      splice.bytesToPipe(header, pipe); // under PIPE_BUF: written whole or not at all
    } catch {
      this.pipeBroken = true; // not a file's fault: blocks go from buffers from now on
      return false;
    }
    try {
      for (let i = 0; i < count; i++) {
        const r = regions[i]!;
        if (r.fd < 0) splice.bytesToPipe(new Uint8Array(r.length), pipe);
        else splice.fileToPipe(r.fd, r.position, pipe, r.length);
      }
    } catch (error) {
      // The header is in the pipe: without its whole block the stream would be corrupt from here on.
      this.close();
      this.blockFailed(error);
      return true;
    }
    this.pipePagesUsed += pages;
    this.pending.push({ bytes: null, offset: 0, length, pages, done: undefined });
    this.queuedBytes += length;
    if (this.head === this.pending.length - 1) this.unflushed = true;
    return true;
  }

  /** Sends the blocks `sendFileBlock` queued while the socket had nothing waiting. */
  flushBlocks(): void {
    if (!this.unflushed) return;
    this.flush();
  }

  /** Call from the socket's `drain` handler: pushes queued bytes until the kernel pushes back again. */
  flush(): void {
    this.unflushed = false;
    while (this.head < this.pending.length) {
      const item = this.pending[this.head]!;
      if (item.bytes === null) {
        // Messages waiting in the pipe one after another leave in one splice, not one per block.
        let run = 0;
        for (let i = this.head; i < this.pending.length && this.pending[i]!.bytes === null; i++) run += this.pending[i]!.length - this.pending[i]!.offset;
        const sent = this.fromPipe(run);
        if (sent < 0) return this.close();
        this.consume(sent);
        if (sent < run) {
          if (this.carrying) return; // Bun fell short: `drain` comes
          continue; // Bun took the pipe's next byte: the socket has room again
        }
        continue;
      }
      const left = item.length - item.offset;
      const written = this.socket.write(item.bytes, item.offset, left);
      if (written < 0) return this.close();
      this.consume(written);
      if (written < left) return; // Bun fell short: `drain` comes
    }
    this.pending.length = 0;
    this.head = 0;
  }

  /** `sent` bytes of the queue's head went out: completes the messages they finish. */
  private consume(sent: number): void {
    this.queuedBytes -= sent;
    while (sent > 0) {
      const item = this.pending[this.head]!;
      const n = Math.min(sent, item.length - item.offset);
      item.offset += n;
      sent -= n;
      if (item.offset < item.length) return;
      this.head++;
      this.pipePagesUsed -= item.pages;
      item.done?.();
    }
  }

  /**
   * Sends up to `left` bytes from the pipe. When the socket takes no more, its next byte goes through
   * Bun's write: taken, we go on; refused, it is carried until `drain` (Bun arms it for a short write).
   */
  private fromPipe(left: number): number {
    const socketFd = this.target;
    const pipe = this.pipe!;
    let sent = 0;
    if (this.carrying) {
      const one = this.socket.write(this.carry, 0, 1);
      if (one <= 0) return one;
      this.carrying = false;
      sent = 1;
    }
    try {
      while (sent < left) {
        const n = this.splice!.pipeToSocket(pipe, socketFd, left - sent);
        if (n === 0) break;
        sent += n;
      }
      if (sent === left) return sent;
      this.splice!.takeByte(pipe, this.carry);
    } catch {
      return -1; // the socket is gone (reset, broken pipe): nothing more can be sent
    }
    const one = this.socket.write(this.carry, 0, 1);
    if (one < 0) return -1;
    if (one === 0) this.carrying = true;
    return sent + one;
  }

  private openPipe(): Pipe | null {
    if (this.pipe !== undefined) return this.pipe;
    const fd = this.rawFd();
    if (this.splice && !this.closed && fd !== undefined && fd >= 0) {
      this.target = fd;
      this.pipe = this.splice.openPipe();
      // Too small for a block with its header (limits on pipe memory reached): buffers it is.
      if (this.pipe && this.pipe.pages < 8) {
        this.splice.closePipe(this.pipe);
        this.pipe = null;
      }
    }
    return this.pipe ?? null;
  }

  /** Drops everything still queued, releasing handed-over buffers and the pipe. */
  close(): void {
    this.closed = true;
    this.unflushed = false;
    for (let i = this.head; i < this.pending.length; i++) this.pending[i]!.done?.();
    this.pending.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    if (this.pipe) this.splice!.closePipe(this.pipe);
    this.pipe = null;
  }
}
