// The poller thread of the batched UDP server (bun-udp-batched.ts): while the main thread has armed
// it, it blocks in poll() on the socket and, once a datagram waits, wakes the main thread through
// the shared state (Atomics.notify, which resolves the main thread's Atomics.waitAsync). It never
// touches a datagram: the main thread reads them all with recvmmsg. Blocking here costs no CPU,
// and the main thread is woken once per burst, not once per datagram.
import { workerData } from "node:worker_threads";
import { FfiUdpSocket, linuxLibc, pollfdFor } from "./bun-udp-ffi.ts";
import { POLLER_ARMED, POLLER_READY, POLLER_STOP, type PollerData } from "./bun-udp-poller-state.ts";

/** How often a blocked poll() looks at the stop flag. */
const POLL_MS = 100;

const { fd, state } = workerData as PollerData;
const st = new Int32Array(state);
const c = linuxLibc();
const pollfd = pollfdFor(fd);
while (Atomics.load(st, POLLER_STOP) === 0) {
  if (Atomics.load(st, POLLER_ARMED) === 0) {
    Atomics.wait(st, POLLER_ARMED, 0, POLL_MS);
    continue;
  }
  if (!FfiUdpSocket.waitReadable(c, pollfd, POLL_MS)) continue;
  Atomics.store(st, POLLER_ARMED, 0);
  Atomics.store(st, POLLER_READY, 1);
  Atomics.notify(st, POLLER_READY);
}
