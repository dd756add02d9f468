// BEP 15 connection ids, per tracker address: each is used for a minute after it was obtained, and at
// most one connect is in flight per tracker however many requests (of however many torrents) wait on
// it. A connect nobody waits on any more is abandoned (aborted), and a request arriving after that
// starts a fresh one rather than inheriting the abort. Bounded: past `maxTrackers` the oldest is forgotten.
import { UdpTrackerError } from "./udp-tracker-error.ts";

export interface Connection {
  id: bigint;
  obtainedAt: number;
}

/** A connect in flight, shared by the requests that need it. */
interface Connecting {
  promise: Promise<bigint>;
  controller: AbortController;
  waiters: number;
}

export class Connections {
  private readonly cached = new Map<string, Connection>();
  private readonly connecting = new Map<string, Connecting>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxTrackers: number,
  ) {}

  get size(): number {
    return this.cached.size;
  }

  isStale(c: Connection): boolean {
    return Date.now() - c.obtainedAt >= this.ttlMs;
  }

  /** `key`'s connection id: the cached one while fresh, else from the connect in flight or one `connect` starts. */
  obtain(key: string, connect: (signal: AbortSignal) => Promise<bigint>, signal?: AbortSignal): Promise<Connection> {
    const cached = this.cached.get(key);
    if (cached && !this.isStale(cached)) return Promise.resolve(cached);
    let c = this.connecting.get(key);
    // An abandoned connect stays in the map until its rejection runs: start a new one instead.
    if (!c || c.controller.signal.aborted) {
      const controller = new AbortController();
      const fresh: Connecting = { promise: connect(controller.signal), controller, waiters: 0 };
      const done = () => this.connecting.get(key) === fresh && this.connecting.delete(key);
      fresh.promise.then((id) => (done(), this.remember(key, id)), done);
      this.connecting.set(key, fresh);
      c = fresh;
    }
    return this.join(c, signal).then((id) => this.cached.get(key) ?? { id, obtainedAt: Date.now() });
  }

  /** Drops `key`'s id (the tracker may have refused it). */
  forget(key: string): void {
    this.cached.delete(key);
  }

  clear(): void {
    for (const c of this.connecting.values()) c.controller.abort();
    this.connecting.clear();
    this.cached.clear();
  }

  private remember(key: string, id: bigint): void {
    this.cached.delete(key);
    this.cached.set(key, { id, obtainedAt: Date.now() });
    if (this.cached.size > this.maxTrackers) this.cached.delete(this.cached.keys().next().value!);
  }

  /** Waits for a shared connect; the last waiter to give up abandons it. */
  private join(c: Connecting, signal?: AbortSignal): Promise<bigint> {
    c.waiters++;
    return new Promise<bigint>((resolve, reject) => {
      // A waiter leaves once, by abort or by the connect settling, whichever comes first.
      let left = false;
      const leave = (then: () => void) => {
        if (left) return;
        left = true;
        signal?.removeEventListener("abort", onAbort);
        c.waiters--;
        then();
      };
      const onAbort = () =>
        leave(() => {
          if (c.waiters === 0) c.controller.abort();
          reject(new UdpTrackerError("aborted", "the UDP tracker request was aborted"));
        });
      // Handlers go on before any abort, so an abandoned connect's rejection is always handled.
      c.promise.then(
        (id) => leave(() => resolve(id)),
        (e) => leave(() => reject(e)),
      );
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
