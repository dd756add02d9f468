// Random sampling for the embedded store: up to `want` distinct positions of a pool of `n`, leaving
// out one position (the requester's own entry, when it is in the pool). A stratified draw, as
// opentracker makes its own: the pool (rotated by a random offset) is cut into `want` runs of
// nearly equal length and one position is drawn uniformly from each run. Every position is handed
// out with the same probability, want / pool (the random rotation evens out the runs' lengths), and
// a sample is a random subset spread over the whole pool. One random number per pick, no repeats
// to reject and nothing to remember between picks, and the positions come out in ascending order
// (one wrap), so the compact forms are read from their buffers front to back. It replaced rejection
// sampling and a partial shuffle (uniform over all subsets, the same marginals) that cost a third
// more (in process, pools of 100 and 200, numwant 50: about 0.5 -> 0.35 µs per draw). The scratch
// array is reused across draws, so an announce allocates nothing here.
export class Sampler {
  /** The positions drawn by the last draw(), its first `count` entries. */
  picked = new Int32Array(256);

  constructor(private readonly random: () => number) {}

  /** Draws into `picked`; returns how many (at most `want`, never `skip`; -1 or `n` and over: skip nothing). */
  draw(n: number, want: number, skip: number): number {
    if (want <= 0 || n === 0) return 0;
    // The pool without the skipped position: pool position q stands for q, or q + 1 from `skip` on.
    const hasSkip = skip >= 0 && skip < n;
    const pool = hasSkip ? n - 1 : n;
    const take = Math.min(want, pool);
    if (this.picked.length < take) this.picked = new Int32Array(Math.max(take, this.picked.length * 2));
    const picked = this.picked;
    const cut = hasSkip ? skip : pool;
    if (take === pool) {
      for (let q = 0; q < pool; q++) picked[q] = q < cut ? q : q + 1;
      return take;
    }
    // Runs of `base` or `base + 1` positions, the longer ones spread evenly (integer steps: a
    // division and Math.floor per pick made the draw twice as slow). `| 0` floors: all non-negative.
    const base = (pool / take) | 0;
    const extra = pool - base * take;
    let start = (this.random() * pool) | 0;
    let carry = 0;
    for (let k = 0; k < take; k++) {
      let length = base;
      carry += extra;
      if (carry >= take) {
        carry -= take;
        length++;
      }
      let q = start + ((this.random() * length) | 0);
      if (q >= pool) q -= pool;
      picked[k] = q < cut ? q : q + 1;
      start += length;
      if (start >= pool) start -= pool;
    }
    return take;
  }
}
