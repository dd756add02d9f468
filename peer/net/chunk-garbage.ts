// Bun hands every socket `data` event a freshly allocated buffer. Most received bytes no longer come
// that way (direct-read.ts reads the rest of what the kernel holds into one reused buffer), but what Bun
// reads first on each wake-up still does (about 1 byte in 8), and the collector lets those buffers pile
// up by 100 MiB and more before it runs on its own. So the peer collects after every GC_EVERY bytes of
// them. Measured on 1 GiB downloads (peak RSS of the leecher, 64 MiB pool of which 16 MiB used, hashing
// thread included):
//   direct reads, synchronous collection every 2 MiB of Bun's chunks:  83-86 MiB, +0.15 s CPU per GiB
//   direct reads, synchronous collection every 4 MiB:                  95-98 MiB, no CPU cost measurable
//   direct reads, synchronous collection every 8 MiB:                 106-108 MiB
//   Bun's chunks only, asynchronous collection every 24 MiB:          130-134 MiB (best of 8/24/48 MiB)
// The collection runs from the event loop once the chunk's handler has returned, when the chunks are dead
// and young, and is a young-generation (eden) one, which frees them without marking the whole heap; every
// FULL_EVERY-th is a full one, because about one chunk in ten survives into the old generation anyway and
// the heap otherwise creeps up by ~13 MB per GiB until JSC collects it on its own (3 GiB: 128 MiB peak RSS).
// Measured on a 3 GiB download (BUN_JSC_logGC=1, the time of every collection summed):
//   a full collection from inside the handler every 4 MiB (6-14 ms each):  697 ms, 101 MiB peak RSS
//   eden collections from the event loop, every 8th a full one:    381-438 ms, 99-101 MiB
//   eden collections only:                                                  294 ms, 128 MiB
// Bun.gc(true) is not used: it also hands freed pages back to the OS, which then fault in again (~1 s of
// system time per GiB).
import { edenGC, fullGC } from "bun:jsc";
import { directReadAvailable } from "./direct-read.ts";

const direct = directReadAvailable();
const GC_EVERY = (direct ? 4 : 24) * 1024 * 1024;
const FULL_EVERY = 8;
let sinceCollect = 0;
let scheduled = false;
let collections = 0;

export function noteChunkReceived(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < GC_EVERY) return;
  sinceCollect = 0;
  // Without direct reads every received byte is garbage: a synchronous collection that often would cost
  // too much, so ask for one in the background instead.
  if (!direct) return Bun.gc(false);
  if (scheduled) return;
  scheduled = true;
  setImmediate(collect);
}

function collect(): void {
  scheduled = false;
  if (++collections % FULL_EVERY === 0) fullGC();
  else edenGC();
}
