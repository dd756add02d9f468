// Transfer rate over a short sliding window: per-second buckets in a fixed ring, so adding bytes
// allocates nothing. Used for choking (tit-for-tat), pipelining depth and the progress line.

const WINDOW_SECONDS = 5;

export class RateMeter {
  private readonly buckets = new Float64Array(WINDOW_SECONDS);
  private currentSecond = 0;
  private startedAt = 0;
  /** All bytes ever counted. */
  total = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = this.now();
    this.currentSecond = Math.floor(this.startedAt / 1000);
  }

  add(bytes: number): void {
    this.advance();
    this.buckets[this.currentSecond % WINDOW_SECONDS]! += bytes;
    this.total += bytes;
  }

  /** Bytes per second over the last few seconds (or since the meter started, if sooner). */
  rate(): number {
    this.advance();
    let sum = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) sum += this.buckets[i]!;
    const elapsed = Math.min(WINDOW_SECONDS, Math.max(1, (this.now() - this.startedAt) / 1000));
    return sum / elapsed;
  }

  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    if (second === this.currentSecond) return;
    const steps = Math.min(WINDOW_SECONDS, second - this.currentSecond);
    for (let i = 1; i <= steps; i++) this.buckets[(this.currentSecond + i) % WINDOW_SECONDS] = 0;
    this.currentSecond = second;
  }
}
