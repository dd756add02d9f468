// ffi-serve.ts's poller thread: while armed, blocks in poll() on the listening socket and the epoll set
// of connections still awaiting their request, and once either has input wakes the main thread
// (Atomics.notify resolves its Atomics.waitAsync). It never reads a socket itself.
import { dlopen, ptr } from "bun:ffi";
import { workerData } from "node:worker_threads";

const POLLER_ARMED = 0;
const POLLER_READY = 1;
const POLLER_STOP = 2;
const POLLIN = 1;
/** How often a blocked poll() looks at the stop flag. */
const POLL_MS = 100;

const { lfd, epfd, state } = workerData as { lfd: number; epfd: number; state: SharedArrayBuffer };
const c = dlopen("libc.so.6", { poll: { args: ["ptr", "u64", "i32"], returns: "i32" } }).symbols;
const st = new Int32Array(state);
const fds = new Uint8Array(16);
const v = new DataView(fds.buffer);
v.setInt32(0, lfd, true);
v.setInt16(4, POLLIN, true);
v.setInt32(8, epfd, true);
v.setInt16(12, POLLIN, true);
const fdsAt = ptr(fds);
while (Atomics.load(st, POLLER_STOP) === 0) {
  if (Atomics.load(st, POLLER_ARMED) === 0) {
    Atomics.wait(st, POLLER_ARMED, 0, POLL_MS);
    continue;
  }
  if (c.poll(fdsAt, 2, POLL_MS) <= 0) continue;
  Atomics.store(st, POLLER_ARMED, 0);
  Atomics.store(st, POLLER_READY, 1);
  Atomics.notify(st, POLLER_READY);
}
