// The UDP tracker client's outstanding requests, by transaction id. A datagram is taken only when its
// transaction id is one we are waiting on AND it comes from the address and port that request went
// to; anything else is dropped without a trace beyond a counter, so a stranger cannot answer for a
// tracker or make the client throw. The table is bounded: past `capacity` a new request is refused.
import { decodeResponse, UdpCodecError, type UdpResponse } from "../../shared/udp-tracker/index.ts";
import type { UdpTarget } from "./udp-target.ts";
import { UdpTrackerError } from "./udp-tracker-error.ts";

/** What a request is waiting for: a reply it can take, or the reason a reply for it was refused. */
export type ReplyCheck = (reply: UdpResponse) => string | null;

/** Why `wait` returned without a reply. */
export type WaitOutcome = { kind: "reply"; reply: UdpResponse } | { kind: "timeout" };

export interface TransactionCounts {
  outstanding: number;
  /** Datagrams that matched no outstanding request (unknown id, or the wrong sender). */
  dropped: number;
  /** Datagrams from the right sender for a request that could not be taken. */
  refused: number;
}

class Transaction {
  reply: UdpResponse | null = null;
  /** The last problem with a reply from the right sender, kept to explain a timeout. */
  problem: string | null = null;
  wake: (() => void) | null = null;
  failure: UdpTrackerError | null = null;

  constructor(
    readonly id: number,
    readonly target: UdpTarget,
    readonly check: ReplyCheck,
  ) {}
}

export class Transactions {
  private readonly open = new Map<number, Transaction>();
  private dropped = 0;
  private refused = 0;

  constructor(
    private readonly capacity: number,
    private readonly randomId: () => number = randomU32,
  ) {}

  /** Registers a request to `target`; throws "busy" when the table is full. Close it when done. */
  begin(target: UdpTarget, check: ReplyCheck): Transaction {
    if (this.open.size >= this.capacity) throw new UdpTrackerError("busy", `${this.capacity} UDP tracker requests already outstanding`);
    let id = this.randomId();
    while (this.open.has(id)) id = this.randomId();
    const t = new Transaction(id, target, check);
    this.open.set(id, t);
    return t;
  }

  end(t: Transaction): void {
    if (this.open.get(t.id) === t) this.open.delete(t.id);
  }

  /** Waits up to `ms` for a reply to `t` (one that came earlier counts). Rejects on abort or close. */
  wait(t: Transaction, ms: number, signal?: AbortSignal): Promise<WaitOutcome> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        t.wake = null;
        if (t.failure) reject(t.failure);
        else if (t.reply) resolve({ kind: "reply", reply: t.reply });
        else resolve({ kind: "timeout" });
      };
      const onAbort = () => {
        t.failure ??= new UdpTrackerError("aborted", "the UDP tracker request was aborted");
        finish();
      };
      const timer = setTimeout(finish, ms);
      t.wake = finish;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
      if (t.reply || t.failure) finish();
    });
  }

  /** A datagram from `address`:`port` on the socket of `family`. Never throws. */
  receive(packet: Uint8Array, family: 4 | 6, address: string, port: number): void {
    if (packet.length < 8) return void this.dropped++;
    const id = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(4);
    const t = this.open.get(id);
    if (!t || t.reply || t.target.family !== family || t.target.address !== address || t.target.port !== port) return void this.dropped++;
    let reply: UdpResponse;
    try {
      reply = decodeResponse(packet, family);
    } catch (error) {
      if (!(error instanceof UdpCodecError)) throw error;
      this.refused++;
      t.problem = `${error.code}: ${error.message}`;
      return;
    }
    const problem = reply.action === "error" ? null : t.check(reply);
    if (problem !== null) {
      this.refused++;
      t.problem = problem;
      return;
    }
    t.reply = reply;
    t.wake?.();
  }

  /** Fails the outstanding requests to `target` with `error` (the system said it cannot be reached). */
  failTarget(target: UdpTarget, error: UdpTrackerError): void {
    for (const t of this.open.values()) {
      if (t.reply || t.target.address !== target.address || t.target.port !== target.port) continue;
      t.failure ??= error;
      t.wake?.();
    }
  }

  /** Fails every outstanding request with `error` (the client is closing). */
  failAll(error: UdpTrackerError): void {
    for (const t of this.open.values()) {
      t.failure = error;
      t.wake?.();
    }
    this.open.clear();
  }

  counts(): TransactionCounts {
    return { outstanding: this.open.size, dropped: this.dropped, refused: this.refused };
  }
}

export type { Transaction };

function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
