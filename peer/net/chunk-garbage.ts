// What is left of the chunks Bun hands socket `data` events once their memory is freed (sockets.ts detaches
// each buffer as soon as the connection has read it): the small wrapper objects. The collector's own
// young-generation collections free most of them, but about one in ten survives into the old generation,
// where only a full collection finds it: without one, the heap crept up by ~4 MB per GiB received (after-
// collection heap 69 -> 83 MB over a 3 GiB download, peak RSS 131 MiB against 118 with collections forced).
// So after every FULL_EVERY bytes of Bun's chunks the peer runs a full collection from the event loop, once the
// chunk's handler has returned. Collections (count, summed time with BUN_JSC_logGC=1) and peak RSS:
//   a young collection every 4 MiB of chunks, every 8th full (before detaching), 1 GiB: 131, 294 ms, 105 MiB
//   detached, no collection forced:                                   1 GiB:  25, 109 ms, 113 MiB; 3 GiB: 127 MiB
//   detached, a full collection every 128 MiB of chunks:              3 GiB:  68, 181 ms, 111 MiB (256 MiB: 111)
// Bun.gc(true) is not used: it also hands freed pages back to the OS, which then fault in again.
import { fullGC } from "bun:jsc";

const FULL_EVERY = 128 * 1024 * 1024;
let sinceCollect = 0;
let scheduled = false;

export function noteChunkReceived(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < FULL_EVERY || scheduled) return;
  sinceCollect = 0;
  scheduled = true;
  setImmediate(collect);
}

function collect(): void {
  scheduled = false;
  fullGC();
}
