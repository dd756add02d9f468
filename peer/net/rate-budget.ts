// Rate limits that can change at run time, and a budget drawn from several at once: a torrent's transfers
// draw from its own limit and from the client's global one, so a byte is spent from both and may go only
// when both have it. A limit of null lets everything through.
import { TokenBucket, type TokenBucketOptions } from "./token-bucket.ts";

/** What the uploader and downloader spend from: a TokenBucket, or a RateBudget over several. */
export interface ByteBudget {
  /** Bytes per second (Infinity: no limit). */
  readonly rate: number;
  available(): number;
  spend(bytes: number): void;
  msUntil(bytes: number): number;
}

/** One limit (bytes per second, or null: none), changeable while transfers run. */
export class RateLimit {
  private bucket: TokenBucket | null = null;

  constructor(
    rate: number | null,
    private readonly options: TokenBucketOptions = {},
  ) {
    this.set(rate);
  }

  get rate(): number | null {
    return this.bucket?.rate ?? null;
  }

  /** A new rate; the tokens already there carry over (up to the new burst), so changing it grants no extra burst. */
  set(rate: number | null): void {
    if (rate === null) this.bucket = null;
    else if (this.bucket) this.bucket.setRate(rate);
    else this.bucket = new TokenBucket(rate, this.options);
  }

  /** The bucket while limited. */
  get current(): TokenBucket | null {
    return this.bucket;
  }
}

export class RateBudget implements ByteBudget {
  private readonly limits: readonly RateLimit[];

  constructor(...limits: RateLimit[]) {
    this.limits = limits;
  }

  get rate(): number {
    let rate = Number.POSITIVE_INFINITY;
    for (const l of this.limits) if (l.rate !== null && l.rate < rate) rate = l.rate;
    return rate;
  }

  available(): number {
    let n = Number.POSITIVE_INFINITY;
    for (const l of this.limits) {
      const bucket = l.current;
      if (bucket) n = Math.min(n, bucket.available());
    }
    return n;
  }

  spend(bytes: number): void {
    for (const l of this.limits) l.current?.spend(bytes);
  }

  msUntil(bytes: number): number {
    let ms = 0;
    for (const l of this.limits) {
      const bucket = l.current;
      if (bucket) ms = Math.max(ms, bucket.msUntil(bytes));
    }
    return ms;
  }
}
