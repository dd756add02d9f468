// What an announce and a scrape do, whatever they came over (HTTP routes, UDP): the private-mode
// check, the store call with the clock and peer lifetime, and the interval with its random spread.
import type { TrackerConfig } from "./config.ts";
import { TrackerError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { InstanceCounters } from "./metrics/instance-counters.ts";
import { callStore } from "./routes/common.ts";
import { StoreOutageLog } from "./store-outage.ts";
import type { AnnounceInput, AnnounceResult, SwarmCounts, SwarmStore } from "./store/swarm-store.ts";

export interface TrackerCore {
  config: TrackerConfig;
  /** The store, or a TrackerError when the deployment has none configured. */
  requireStore(): SwarmStore;
  log: Logger;
  outage: StoreOutageLog;
  counters: InstanceCounters;
}

/** A core over `store` (null: every request is refused as not configured), with its own outage log. */
export function trackerCore(config: TrackerConfig, store: SwarmStore | null, log: Logger, counters = new InstanceCounters()): TrackerCore {
  return {
    config,
    log,
    outage: new StoreOutageLog(log),
    counters,
    requireStore() {
      if (!store) throw new TrackerError("not-configured", "tracker not configured: no swarm store");
      return store;
    },
  };
}

export interface AnnounceOutcome {
  result: AnnounceResult;
  /** Seconds until the next announce, spread at random so clients do not announce in lockstep. */
  interval: number;
}

export async function announcePeer(t: TrackerCore, input: Omit<AnnounceInput, "now" | "peerTtlMs">): Promise<AnnounceOutcome> {
  const { config } = t;
  const store = t.requireStore();
  if (config.privateMode && !(await callStore(t, "allowlist check", () => store.isAllowed(input.infoHash)))) {
    throw new TrackerError("not-allowed", "this torrent is not registered with this private tracker");
  }
  const now = Date.now();
  const result = await callStore(t, "announce", () => store.announce({ ...input, now, peerTtlMs: config.peerTtlSec * 1000 }));
  const interval = config.intervalSec + Math.floor(Math.random() * (config.intervalSpreadSec + 1));
  return { result, interval };
}

/** Counts per info hash (hex), in order; `undefined` for a torrent a private tracker does not serve. */
export async function scrapeCounts(t: TrackerCore, infoHashes: string[]): Promise<Array<SwarmCounts | undefined>> {
  const store = t.requireStore();
  let allowed: boolean[] | undefined;
  if (t.config.privateMode) allowed = await callStore(t, "allowlist check", () => Promise.all(infoHashes.map((h) => store.isAllowed(h))));
  const wanted = allowed ? infoHashes.filter((_, i) => allowed[i]) : infoHashes;
  const counts = wanted.length === 0 ? [] : await callStore(t, "scrape", () => store.scrape(wanted, Date.now()));
  let next = 0;
  return infoHashes.map((_, i) => (allowed && !allowed[i] ? undefined : (counts[next++] ?? { complete: 0, incomplete: 0, downloaded: 0 })));
}
