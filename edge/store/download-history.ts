// Completed-download counts that outlive their swarm in the embedded store (memory.ts), up to a bound:
// ordered by last completion, the least recent forgotten first. Only swarms with a completion have one;
// a live swarm carries its count too (Swarm.downloaded), so an announce reads no Map. Apart from the
// store so that its bound and order are one small thing to read.

export class DownloadHistory {
  private readonly counts = new Map<string, number>();

  /** `max`: the most swarms whose count is kept (the store's maxSwarms). */
  constructor(private readonly max: number) {}

  get size(): number {
    return this.counts.size;
  }

  /** The count of a swarm by info hash (hex), 0 when it has none. */
  of(infoHash: string): number {
    return this.counts.get(infoHash) ?? 0;
  }

  /** A swarm's count after a completion; the info hash whose count was forgotten to stay within the bound, if any. */
  completed(infoHash: string, count: number): string | undefined {
    this.counts.delete(infoHash);
    this.counts.set(infoHash, count);
    if (this.counts.size <= this.max) return undefined;
    const forgotten = this.counts.keys().next().value!;
    this.counts.delete(forgotten);
    return forgotten;
  }
}
