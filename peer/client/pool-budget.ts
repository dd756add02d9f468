// The piece-pool memory all torrents of a client share: each asks for its pool when it starts and gives
// it back when it ends, so torrents together stay within the one --pool figure.

export class PoolBudget {
  private left: number;

  constructor(readonly totalBytes: number) {
    this.left = totalBytes;
  }

  get available(): number {
    return this.left;
  }

  /** Grants up to `bytes` (what is left when less). A pool holds one slot at least, so it may overshoot by less than a piece. */
  reserve(bytes: number): number {
    const granted = Math.min(bytes, this.left);
    this.left -= granted;
    return granted;
  }

  release(bytes: number): void {
    if (bytes > this.totalBytes - this.left) throw new Error(`pool budget: releasing ${bytes} bytes, more than was reserved`);
    this.left += bytes;
  }
}
