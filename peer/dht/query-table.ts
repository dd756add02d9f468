// Our outstanding queries, by transaction id. A reply is taken only if its transaction id is one we sent
// and it comes from the address we sent it to; anything else is dropped, so a node cannot be fed
// replies (and through them nodes or peers) for queries it never made. The table is bounded: past
// `max` queries in flight, a new query fails at once with `busy` rather than queueing without limit.
import type { KrpcErrorMessage, KrpcResponse } from "../../shared/dht/types.ts";
import { toBinaryString } from "../../shared/bytes.ts";
import { DhtError } from "./errors.ts";

export type QueryOutcome = { kind: "response"; response: KrpcResponse } | { kind: "error"; error: KrpcErrorMessage } | { kind: "timeout" };

interface Pending {
  address: string;
  timer: ReturnType<typeof setTimeout>;
  settle: (outcome: QueryOutcome) => void;
}

export class QueryTable {
  private readonly pending = new Map<string, Pending>();
  private next = Math.floor(Math.random() * 0x10000);

  constructor(
    readonly max: number,
    readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get full(): boolean {
    return this.pending.size >= this.max;
  }

  /**
   * Reserves a transaction id for a query to `ip`:`port`; `send` gets the id and puts the packet on the
   * wire. Resolves with the reply, the error reply or a timeout; never rejects once sent.
   */
  open(ip: string, port: number, send: (transactionId: Uint8Array) => void): Promise<QueryOutcome> {
    if (this.full) return Promise.reject(new DhtError("busy", `${this.max} queries already in flight`));
    let transactionId: Uint8Array;
    // Two bytes as libtorrent uses; skip ids still in flight (the table holds far fewer than 65536).
    do {
      this.next = (this.next + 1) & 0xffff;
      transactionId = new Uint8Array([this.next >> 8, this.next & 0xff]);
    } while (this.pending.has(toBinaryString(transactionId)));
    const key = toBinaryString(transactionId);
    return new Promise<QueryOutcome>((resolve) => {
      const settle = (outcome: QueryOutcome) => {
        clearTimeout(entry.timer);
        this.pending.delete(key);
        resolve(outcome);
      };
      const entry: Pending = { address: `${ip}|${port}`, timer: setTimeout(() => settle({ kind: "timeout" }), this.timeoutMs), settle };
      this.pending.set(key, entry);
      try {
        send(transactionId);
      } catch (error) {
        clearTimeout(entry.timer);
        this.pending.delete(key);
        throw error;
      }
    });
  }

  /** Hands a reply to its query; false (and nothing happens) when no query of ours matches it. */
  settle(message: KrpcResponse | KrpcErrorMessage, fromIp: string, fromPort: number): boolean {
    const key = toBinaryString(message.transactionId);
    const entry = this.pending.get(key);
    if (!entry || entry.address !== `${fromIp}|${fromPort}`) return false;
    entry.settle(message.type === "response" ? { kind: "response", response: message } : { kind: "error", error: message });
    return true;
  }

  /** Ends every query as timed out (the node is closing). */
  clear(): void {
    for (const entry of [...this.pending.values()]) entry.settle({ kind: "timeout" });
  }
}
