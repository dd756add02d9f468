// Announce and scrape counters as the stores keep them: per event and outcome, and per minute for
// the dashboard's chart of the last hour. The memory store holds them in these objects; the Upstash
// store in Redis, under the field names and minute keys defined here.
import type { AnnounceEvent, AnnounceOutcome, AnnounceTally, BusySwarm, StoreCounters } from "./swarm-store.ts";

/** Minutes the chart shows, and how long a minute's count is kept (a little more, for clock skew between instances). */
export const CHART_MINUTES = 60;
export const MINUTE_MS = 60_000;
export const MINUTE_KEY_TTL_MS = (CHART_MINUTES + 5) * MINUTE_MS;

export const EVENTS: readonly AnnounceEvent[] = ["started", "completed", "stopped", ""];
export const OUTCOMES: readonly AnnounceOutcome[] = ["recorded", "ignored"];

export function minuteOf(now: number): number {
  return Math.floor(now / MINUTE_MS);
}

/** The counters hash field of one event and outcome: `announce:started:recorded`, `announce::ignored`. */
export function announceField(event: AnnounceEvent, outcome: AnnounceOutcome): string {
  return `announce:${event}:${outcome}`;
}

export const SCRAPES_FIELD = "scrapes";

/**
 * On Redis the counters are split in this many shards, picked by the info hash's first hex digit,
 * and summed when read. Upstash runs scripts flagged `allow-key-locking` in parallel only when their
 * KEYS differ: one counters key written by every announce would make every announce wait for the
 * one before, whatever its swarm. With 16 shards two announces meet on a key one time in 16.
 */
export const COUNTER_SHARDS = 16;

export function counterShard(infoHash: string): number {
  const digit = parseInt(infoHash.charAt(0), 16);
  return Number.isNaN(digit) ? 0 : digit % COUNTER_SHARDS;
}

/** Counters hashes (field -> count, as Redis returns them) added up field by field. */
export function sumHashes(hashes: ReadonlyArray<Record<string, unknown> | null>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const hash of hashes) {
    for (const [field, value] of Object.entries(hash ?? {})) {
      const n = Number(value);
      if (Number.isFinite(n)) sum[field] = (sum[field] ?? 0) + n;
    }
  }
  return sum;
}

/** Tallies from a counters hash as Redis returns it (field -> count), in a fixed order. */
export function talliesFromHash(hash: Record<string, unknown> | null): AnnounceTally[] {
  const out: AnnounceTally[] = [];
  for (const event of EVENTS) {
    for (const outcome of OUTCOMES) {
      const count = Number(hash?.[announceField(event, outcome)] ?? 0);
      if (Number.isFinite(count) && count > 0) out.push({ event, outcome, count });
    }
  }
  return out;
}

/** The embedded store's counters: plain numbers, and a ring of the last CHART_MINUTES minutes. */
export class MemoryCounters {
  /** Per outcome, per event in EVENTS order: typed arrays indexed by position, not a Map keyed by a field name per announce. */
  private readonly recorded = new Float64Array(EVENTS.length);
  private readonly ignored = new Float64Array(EVENTS.length);
  private scrapes = 0;
  private readonly minutes = new Float64Array(CHART_MINUTES).fill(-1);
  private readonly perMinute = new Float64Array(CHART_MINUTES);

  announced(event: AnnounceEvent, outcome: AnnounceOutcome, now: number): void {
    (outcome === "recorded" ? this.recorded : this.ignored)[eventIndex(event)]!++;
    const minute = minuteOf(now);
    const slot = minute % CHART_MINUTES;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.perMinute[slot] = 0;
    }
    this.perMinute[slot]!++;
  }

  scraped(): void {
    this.scrapes++;
  }

  /** Every announce counted, whatever its event and outcome. */
  total(): number {
    let sum = 0;
    for (let i = 0; i < EVENTS.length; i++) sum += this.recorded[i]! + this.ignored[i]!;
    return sum;
  }

  snapshot(now: number): StoreCounters {
    const last = minuteOf(now);
    const perMinute: number[] = [];
    for (let minute = last - CHART_MINUTES + 1; minute <= last; minute++) {
      const slot = ((minute % CHART_MINUTES) + CHART_MINUTES) % CHART_MINUTES;
      perMinute.push(this.minutes[slot] === minute ? this.perMinute[slot]! : 0);
    }
    const hash: Record<string, number> = {};
    EVENTS.forEach((event, i) => {
      hash[announceField(event, "recorded")] = this.recorded[i]!;
      hash[announceField(event, "ignored")] = this.ignored[i]!;
    });
    return { announces: talliesFromHash(hash), scrapes: this.scrapes, perMinute };
  }
}

/** The position of `event` in EVENTS. */
function eventIndex(event: AnnounceEvent): number {
  switch (event) {
    case "started":
      return 0;
    case "completed":
      return 1;
    case "stopped":
      return 2;
    default:
      return 3;
  }
}

/** Keeps the `limit` swarms with the most peers seen so far: O(limit) per swarm offered, for small limits. */
export class BusiestSwarms {
  private readonly top: BusySwarm[] = [];
  constructor(private readonly limit: number) {}

  offer(infoHash: string, seeders: number, leechers: number): void {
    if (this.limit <= 0 || seeders + leechers === 0) return;
    const peers = seeders + leechers;
    if (this.top.length === this.limit && peers <= size(this.top[this.top.length - 1]!)) return;
    let at = this.top.length;
    while (at > 0 && size(this.top[at - 1]!) < peers) at--;
    this.top.splice(at, 0, { infoHash, seeders, leechers });
    if (this.top.length > this.limit) this.top.pop();
  }

  list(): BusySwarm[] {
    return this.top;
  }
}

function size(s: BusySwarm): number {
  return s.seeders + s.leechers;
}
