// What a poller thread (bun-udp-poller.ts) and the main thread (poller-thread.ts) share: one Int32Array of flags.
export const POLLER_ARMED = 0; // main -> poller: wait for the socket to have input
export const POLLER_READY = 1; // poller -> main: it has
export const POLLER_STOP = 2; // main -> poller: exit
export const POLLER_FLAGS = 3;

export interface PollerData {
  fd: number;
  state: SharedArrayBuffer;
}
