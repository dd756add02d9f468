// Uniform random sampling for the embedded store: up to `want` distinct positions of a pool of `n`,
// leaving out one position (the requester's own entry, when it is in the pool). O(want) per draw:
// everyone when the pool is small, a partial shuffle when `want` is at least half the pool, else
// rejection sampling (few repeats when picking under half). Scratch arrays are reused across draws,
// so an announce allocates nothing here.
export class Sampler {
  /** The positions drawn by the last draw(), its first `count` entries. */
  picked = new Int32Array(256);
  private order = new Int32Array(256);
  /** For rejection sampling: drawnAt[i] === drawStamp when position i was drawn in this draw. */
  private drawnAt = new Uint32Array(256);
  private drawStamp = 0;

  constructor(private readonly random: () => number) {}

  /** Draws into `picked`; returns how many (at most `want`, never `skip`). */
  draw(n: number, want: number, skip: number): number {
    if (want <= 0 || n === 0) return 0;
    // The skipped position may be drawn: one extra pick covers for it.
    const picks = Math.min(n, want + 1);
    if (this.picked.length < picks) this.picked = new Int32Array(Math.max(picks, this.picked.length * 2));
    const picked = this.picked;
    let count = 0;
    if (picks === n) {
      for (let i = 0; i < n && count < want; i++) if (i !== skip) picked[count++] = i;
    } else if (picks * 2 >= n) {
      if (this.order.length < n) this.order = new Int32Array(Math.max(n, this.order.length * 2));
      const order = this.order;
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = 0; i < picks; i++) {
        const j = i + Math.floor(this.random() * (n - i));
        const tmp = order[j]!;
        order[j] = order[i]!;
        order[i] = tmp;
        if (tmp !== skip && count < want) picked[count++] = tmp;
      }
    } else {
      if (this.drawnAt.length < n) this.drawnAt = new Uint32Array(Math.max(n, this.drawnAt.length * 2));
      if (this.drawStamp === 0xffffffff) {
        this.drawnAt.fill(0);
        this.drawStamp = 0;
      }
      const stamp = ++this.drawStamp;
      const drawnAt = this.drawnAt;
      let chosen = 0;
      while (chosen < picks) {
        const i = Math.floor(this.random() * n);
        if (drawnAt[i] === stamp) continue;
        drawnAt[i] = stamp;
        chosen++;
        if (i !== skip && count < want) picked[count++] = i;
      }
    }
    return count;
  }
}
