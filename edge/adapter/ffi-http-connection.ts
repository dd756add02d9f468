// One connection of the server on raw syscalls (ffi-http-server.ts): what it holds and where it stands.
// The protocol that drives it is ffi-http-protocol.ts.
import type { ConnectionInfo } from "./http1-connection.ts";

const EMPTY = new Uint8Array(0);

/** One answer of a connection, in request order: its bytes once ready. */
export interface Answer {
  bytes: Uint8Array | null;
  /** The connection ends once this answer is out. */
  close: boolean;
}

/**
 * Where a connection stands; it only moves forward, and to "closed" from anywhere.
 * - reading: requests are read and answered;
 * - answering: no more requests are read (the client half-closed, asked to close, or sent garbage),
 *   those read are still answered;
 * - lingering: all answered and shut down on our side; what arrives is dropped until the client closes;
 * - closed: the descriptor is closed.
 */
export type ConnectionState = "reading" | "answering" | "lingering" | "closed";

export class Connection {
  /** Bytes of requests not yet parsed (a partial request, or pipelined ones past the queue's room). */
  pending: Uint8Array = EMPTY;
  readonly answers: Answer[] = [];
  /** Answer bytes the kernel did not take yet. */
  outbox: Uint8Array | null = null;
  state: ConnectionState = "reading";
  /** The client half-closed: nothing more can arrive (closing need not linger). */
  peerClosed = false;
  /** Bytes may arrive, or wait unread, after the last request read: closing lingers (LINGER_MS). */
  mayHaveUnread = false;
  /** Bytes dropped while lingering. */
  dropped = 0;
  /** The epoll events asked for; -1 while not in the epoll set. */
  interest = -1;
  lastProgress = 0;
  info: ConnectionInfo | null = null;

  constructor(
    readonly fd: number,
    readonly address: string,
  ) {}

  get held(): number {
    return this.pending.length + (this.outbox?.length ?? 0);
  }
}
