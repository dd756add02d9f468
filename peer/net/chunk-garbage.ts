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
// The collection is a young-generation (eden) one, run from the event loop once the chunk's handler has
// returned: the chunks are dead and young by then, so it frees them without marking the whole heap. A
// full collection run from inside the handler cost 6-14 ms each (about 32 per GiB: 0.2-0.5 s of the
// receiving thread, and 0.07 s on JSC's helper threads) against 1.5-2 ms for this one, for 92-97 against
// 99 MiB of peak RSS; an eden collection from inside the handler promoted the live chunk instead, and
// peaked at 114 MiB. Bun.gc(true) is not used: it also hands freed pages back to the OS, which then fault
// in again (~1 s of system time per GiB).
import { edenGC } from "bun:jsc";
import { directReadAvailable } from "./direct-read.ts";

const direct = directReadAvailable();
const GC_EVERY = (direct ? 4 : 24) * 1024 * 1024;
let sinceCollect = 0;
let scheduled = false;

export function noteChunkReceived(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < GC_EVERY) return;
  sinceCollect = 0;
  // Without direct reads every received byte is garbage: a synchronous collection that often would cost
  // too much, so ask for one in the background instead.
  if (!direct) return Bun.gc(false);
  if (scheduled) return;
  scheduled = true;
  setImmediate(collectYoung);
}

function collectYoung(): void {
  scheduled = false;
  edenGC();
}
