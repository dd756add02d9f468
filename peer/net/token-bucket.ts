// A byte budget that refills at a fixed rate: how `--upload-limit` caps what a session sends. Tokens
// accrue continuously up to `burst`; spending is all or nothing per call, so the limit holds at any
// time scale longer than burst / rate.

export interface TokenBucketOptions {
  /** Most bytes that can go out at once after a quiet spell (default: 1/20 s of rate, at least `minBurst`). */
  burst?: number;
  /** Lower bound on the default burst, e.g. the largest write the caller makes. */
  minBurst?: number;
  /** Milliseconds, monotonic. Tests pass their own clock. */
  now?: () => number;
}

export class TokenBucket {
  readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(
    /** Bytes per second, > 0. */
    readonly rate: number,
    options: TokenBucketOptions = {},
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`token bucket rate must be a positive number, got ${rate}`);
    this.now = options.now ?? (() => performance.now());
    this.burst = options.burst ?? Math.max(options.minBurst ?? 0, Math.round(rate / 20));
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Bytes that may be spent right now. */
  available(): number {
    const now = this.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    return Math.floor(this.tokens);
  }

  /** Spends `bytes` (the caller checked `available()` first). */
  spend(bytes: number): void {
    this.available();
    this.tokens -= bytes;
  }

  /** Milliseconds until `bytes` are available (0 if they are now). */
  msUntil(bytes: number): number {
    const missing = bytes - this.available();
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.rate);
  }
}
