// A list of thousands of torrents (the API's full lists, which tools such as Sonarr and Radarr poll)
// leaves megabytes of garbage behind it: the summaries, the answer's objects and its JSON text (about
// 10 MB for sync/maindata of 10,000 torrents). Left to the collector, the process stays large until the
// collector's own timer gets to it (bench:daemon side by side, 21 full lists of 10,000: 126-138 MiB for
// 3.5 s or more after them, then 106; 74 before them). One full collection once the burst is over gives
// those pages back (104 MiB a second after): a second after the last big list, and no later than 5 s after
// the first, so that a tool polling faster than that still gets one.

/** Torrents in a list that make it big. */
const BIG = 1000;
const QUIET_MS = 1000;
const AT_MOST_MS = 5000;

export class ListCollection {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private firstAt = 0;

  /** The API listed `count` torrents. */
  listed(count: number): void {
    if (count < BIG) return;
    const now = performance.now();
    if (this.timer) {
      if (now - this.firstAt < AT_MOST_MS - QUIET_MS) this.timer.refresh();
      return;
    }
    this.firstAt = now;
    this.timer = setTimeout(() => this.collect(), QUIET_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private collect(): void {
    this.timer = null;
    Bun.gc(true);
  }
}
