// Outgoing bytes for one socket. Bun's `socket.write` may take only part of a buffer when the kernel's
// send buffer is full: the rest waits here (as a view, not a copy, when the caller hands over the
// buffer) and goes out on `drain`, in order.

export interface WritableSocket {
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
}

interface Pending {
  bytes: Uint8Array;
  offset: number;
  /** Called once the last byte is handed to the kernel (e.g. to release a pooled upload buffer). */
  done: (() => void) | undefined;
}

export class WriteQueue {
  private readonly pending: Pending[] = [];
  private head = 0;
  /** Bytes accepted but not yet taken by the kernel. */
  queuedBytes = 0;
  closed = false;

  constructor(private readonly socket: WritableSocket) {}

  /**
   * Sends `bytes`. With `done`, the caller hands the buffer over until `done` runs; without it the buffer
   * is borrowed, so an unsent tail is copied (only ever small control frames take this path).
   */
  send(bytes: Uint8Array, done?: () => void): void {
    if (this.closed) {
      done?.();
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
    this.pending.push({ bytes: tail, offset: done ? offset : 0, done });
    this.queuedBytes += bytes.length - offset;
  }

  /** Call from the socket's `drain` handler: pushes queued bytes until the kernel pushes back again. */
  flush(): void {
    while (this.head < this.pending.length) {
      const item = this.pending[this.head]!;
      const left = item.bytes.length - item.offset;
      const written = this.socket.write(item.bytes, item.offset, left);
      if (written < 0) {
        this.close();
        return;
      }
      item.offset += written;
      this.queuedBytes -= written;
      if (written < left) return;
      this.head++;
      item.done?.();
    }
    this.pending.length = 0;
    this.head = 0;
  }

  /** Drops everything still queued, releasing handed-over buffers. */
  close(): void {
    this.closed = true;
    for (let i = this.head; i < this.pending.length; i++) this.pending[i]!.done?.();
    this.pending.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }
}
