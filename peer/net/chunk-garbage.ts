// Bun hands every socket `data` event a freshly allocated buffer. At hundreds of MB/s those buffers
// are garbage at once but the collector lets them pile up by a hundred MiB or more before it runs,
// which would make the peer's memory swing far above its piece pool. Asking for a collection after
// every GC_EVERY received bytes keeps that pile small; a young-generation collection of a small heap
// costs well under a millisecond.
const GC_EVERY = 24 * 1024 * 1024;
let sinceCollect = 0;

export function noteChunkReceived(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < GC_EVERY) return;
  sinceCollect = 0;
  Bun.gc(false);
}
