// The main thread's side of a poller thread (bun-udp-poller.ts), shared by the batched UDP server and
// the HTTP server on raw syscalls: while armed, the thread blocks in poll() on one descriptor and wakes
// this thread once that has input, so an idle server costs no CPU and a busy one is woken once per burst.
import { Worker } from "node:worker_threads";
import { POLLER_ARMED, POLLER_FLAGS, POLLER_READY, POLLER_STOP, type PollerData } from "./bun-udp-poller-state.ts";

/** ES2024's Atomics.waitAsync (Bun has it; this project's TypeScript library is ES2023). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: unknown } }).waitAsync;

export class PollerThread {
  private readonly flags = new Int32Array(new SharedArrayBuffer(POLLER_FLAGS * 4));
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  /** Starts the thread on `fd` (a socket, or an epoll set). Not unref'd: like an open socket, it keeps the process alive until stop(). */
  constructor(fd: number, onError: (error: unknown) => void) {
    const data: PollerData = { fd, state: this.flags.buffer as SharedArrayBuffer };
    this.worker = new Worker(new URL("./bun-udp-poller.ts", import.meta.url), { workerData: data });
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.on("error", onError);
  }

  /** Arms the thread; `then` runs once the descriptor has input (from a later turn of the event loop, or at once). */
  arm(then: () => void): void {
    const f = this.flags;
    Atomics.store(f, POLLER_READY, 0);
    Atomics.store(f, POLLER_ARMED, 1);
    Atomics.notify(f, POLLER_ARMED);
    const woken = waitAsync(f, POLLER_READY, 0);
    if (woken.async) (woken.value as Promise<unknown>).then(then);
    else then();
  }

  /** Lets the thread end; resolves once it has. */
  async stop(): Promise<void> {
    const f = this.flags;
    Atomics.store(f, POLLER_STOP, 1);
    Atomics.notify(f, POLLER_ARMED);
    Atomics.notify(f, POLLER_READY);
    await this.exited;
  }
}
