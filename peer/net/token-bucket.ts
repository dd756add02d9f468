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
  /** Bytes per second, > 0. */
  rate: number;
  burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(
    rate: number,
    private readonly options: TokenBucketOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.rate = checkedRate(rate);
    this.burst = this.burstFor(rate);
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** A new rate from now on; the tokens there stay (up to the new burst), so a change grants no extra burst. */
  setRate(rate: number): void {
    this.available(); // what accrued so far, at the old rate
    this.rate = checkedRate(rate);
    this.burst = this.burstFor(rate);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  private burstFor(rate: number): number {
    return this.options.burst ?? Math.max(this.options.minBurst ?? 0, Math.round(rate / 20));
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

function checkedRate(rate: number): number {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`token bucket rate must be a positive number, got ${rate}`);
  return rate;
}
