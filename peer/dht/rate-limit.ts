// A token bucket per source IP for incoming queries: a host sending faster than `perSecond` (after a
// `burst`) is ignored, not answered, so it can neither load us nor use us to flood a spoofed victim.
// The table of addresses is bounded: the least recently seen address is forgotten first.

export interface RateLimit {
  perSecond: number;
  burst: number;
  /** Most addresses tracked at once. */
  maxAddresses: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 20, burst: 60, maxAddresses: 4096 };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly limit: RateLimit = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  get tracked(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens for `ip` (one query, or a reply's bytes); false, taking none, when it has too few. */
  allow(ip: string, cost = 1): boolean {
    const now = this.now();
    let bucket = this.buckets.get(ip);
    if (bucket) {
      this.buckets.delete(ip); // re-insert below: Map order is our recency order
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: this.limit.burst, at: now };
      if (this.buckets.size >= this.limit.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(ip, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }
}
