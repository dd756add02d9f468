// One lane of a torrent's announcing (announce-scope.ts): its tiers, shared with the torrent's list so that
// BEP 12's reordering (the tracker that answered goes first in its tier) outlives a change of scope, where
// it stands with its trackers, and when it is due again: each lane keeps its own interval and backoff.

const BACKOFF_START_S = 5;
const BACKOFF_MAX_S = 600;

export class TrackerLane {
  /** The tracker that answered last; null while none has (the lane's next announce is `started`). */
  current: string | null = null;
  /** Announces in a row that failed: the backoff doubles with each. */
  failures = 0;
  /** When it is due again (ms since the epoch); 0: at once. */
  nextAt = 0;
  /**
   * The announce under way to this lane, if any. Another waits for it rather than going alongside: its event
   * depends on whether this one's `started` was answered.
   */
  underWay: Promise<unknown> | null = null;
  /** The lane that replaced this one (a tracker edit) while its announce was under way: its outcome goes there. */
  private successor: TrackerLane | null = null;

  constructor(readonly tiers: string[][]) {}

  /** Its last announce was answered. */
  get working(): boolean {
    return this.current !== null && this.failures === 0;
  }

  /** Takes over where a lane of the list before a change stood (it answered through a tracker of this one). */
  inherit(from: TrackerLane): void {
    this.current = from.current;
    this.failures = from.failures;
    this.nextAt = from.nextAt;
    if (from.underWay) {
      this.underWay = from.underWay;
      from.successor = this;
    }
  }

  has(url: string): boolean {
    return this.tiers.some((tier) => tier.includes(url));
  }

  answered(url: string, intervalS: number, now: number): void {
    if (this.successor) {
      // Answered by a tracker the new list dropped: the lane's own trackers still owe their `started`.
      if (this.successor.has(url)) this.successor.answered(url, intervalS, now);
      return;
    }
    for (const tier of this.tiers) {
      const i = tier.indexOf(url);
      if (i < 0) continue;
      tier.splice(i, 1);
      tier.unshift(url);
    }
    this.current = url;
    this.failures = 0;
    this.nextAt = now + intervalS * 1000;
  }

  failed(now: number): void {
    if (this.successor) return this.successor.failed(now);
    this.failures++;
    this.nextAt = now + this.backoffSeconds() * 1000;
  }

  /** Seconds to wait before the next try after a failed announce. */
  backoffSeconds(): number {
    return Math.min(BACKOFF_MAX_S, BACKOFF_START_S * 2 ** Math.max(0, this.failures - 1));
  }
}
