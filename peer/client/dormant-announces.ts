// The announces of dormant torrents (peer/daemon/torrent-entry.ts): a torrent let go keeps announcing to
// its trackers from what it handed over (AnnounceCarry, one TrackerClient each: its lanes with their tier
// order, events and intervals, key, statuses), on the client's one-second tick rather than a timer of its
// own: a round to the lanes due, as an awake torrent's. An answer naming leechers makes the torrent again (a
// seeder dials leechers); the torrent made again takes the carry back. Each lane's outcome is said as a
// running torrent says it (`tracker`, or a `warning` when it failed).
import type { PeerAddress } from "../../shared/compact.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { TrackerStatus } from "../tracker/tracker-client.ts";
import { type AnnounceCarry, announceStopped } from "../tracker/tracker-announcer.ts";

/** Announces of dormant torrents under way at once, at most: 10,000 due together go out a few at a time. */
const MAX_IN_FLIGHT = 32;

/** What a dormant torrent's announce says, as a running torrent's announcer says it (TrackerAnnouncer). */
export type AnnounceEvent = Extract<TorrentEvent, { event: "tracker" | "warning" }>;

export interface DormantAnnounceHooks {
  /** A tracker named peers worth dialling: make the torrent (hex info hash) again, with them. */
  wake(key: string, peers: PeerAddress[]): void;
  /** An announce for the torrent (hex info hash) was answered, or failed: its `tracker` or `warning` (one per lane). */
  announced(key: string, event: AnnounceEvent): void;
}

export class DormantAnnounces {
  private readonly carries = new Map<string, AnnounceCarry>();
  /** The earliest `nextAnnounceAt` of those not in flight (a tick before it looks at nothing). */
  private soonest = Number.POSITIVE_INFINITY;
  private inFlight = 0;
  /** Due, waiting for a free slot: keys in order, `head` the next one. */
  private readonly queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();

  constructor(private readonly hooks: DormantAnnounceHooks) {}

  get size(): number {
    return this.carries.size;
  }

  add(key: string, carry: AnnounceCarry): void {
    this.carries.set(key, carry);
    this.soonest = Math.min(this.soonest, carry.nextAnnounceAt);
  }

  /** Takes the torrent's carry back (it is made again, or removed); null if it had none. */
  take(key: string): AnnounceCarry | null {
    const carry = this.carries.get(key) ?? null;
    this.carries.delete(key);
    return carry;
  }

  /** What the torrent's trackers did last, as Torrent.trackers() says it; null if it has no carry here. */
  trackers(key: string): { list: TrackerStatus[]; nextAnnounceAt: number | null; failures: number } | null {
    const carry = this.carries.get(key);
    return carry ? { list: carry.client.status(), nextAnnounceAt: carry.nextAnnounceAt, failures: carry.failures } : null;
  }

  /**
   * A removed torrent's `stopped`, to each tracker an announce of ours went to. An announce under way is called off first, not
   * waited out: against a silent tracker it would take 45 s per UDP request, and a stop must not.
   */
  async stopped(carry: AnnounceCarry): Promise<void> {
    carry.callOff?.();
    await carry.inFlight;
    await announceStopped(carry.client, carry.stats);
  }

  /**
   * Queues the announces that are due (the client's tick) and sends what the limit allows; the rest go as
   * those under way end, not a tick later (a restart's 10,000 `started` are due 10 ms apart).
   */
  tick(now: number): void {
    if (now < this.soonest) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const [key, carry] of this.carries) {
      if (carry.inFlight || this.queued.has(key)) continue;
      if (carry.nextAnnounceAt <= now) {
        this.queued.add(key);
        this.queue.push(key);
      } else soonest = Math.min(soonest, carry.nextAnnounceAt);
    }
    this.soonest = soonest;
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.head < this.queue.length) {
      const key = this.queue[this.head++]!;
      this.queued.delete(key);
      const carry = this.carries.get(key);
      if (carry && !carry.inFlight) this.announce(key, carry); // gone meanwhile: made again, or removed
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }

  private announce(key: string, carry: AnnounceCarry): void {
    this.inFlight++;
    let peers: PeerAddress[] = [];
    const said: AnnounceEvent[] = [];
    const callOff = new AbortController();
    carry.callOff = () => callOff.abort();
    carry.inFlight = (async () => {
      const outcome = await carry.client.round(undefined, carry.stats, { all: false, signal: callOff.signal });
      carry.nextAnnounceAt = carry.client.nextDueAt();
      for (const result of outcome.answers) {
        said.push({ event: "tracker", tracker: result.tracker, peers: result.peers.length, ...(result.warning ? { warning: result.warning } : {}) });
        // Without a count, any peer may be a leecher. Seeders only: nothing to do (we are one of them).
        if (result.peers.length > 0 && (result.leechers ?? 1) > 0) peers = [...peers, ...result.peers];
      }
      // TrackerClient noted the errors in its statuses; each lane backs off as a running torrent's do.
      carry.failures += outcome.failures.length;
      for (const { error, retryInS } of outcome.failures) said.push({ event: "warning", message: `${error.message}; retrying in ${retryInS} s` });
    })().finally(() => {
      this.inFlight--;
      carry.inFlight = null;
      carry.callOff = null;
      this.pump();
    });
    void carry.inFlight.then(() => {
      if (this.carries.get(key) !== carry) return; // made again or removed meanwhile: the torrent goes on from the carry
      this.soonest = Math.min(this.soonest, carry.nextAnnounceAt);
      for (const event of said) this.hooks.announced(key, event);
      if (peers.length > 0) this.hooks.wake(key, peers);
    });
  }
}
