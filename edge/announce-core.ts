// What an announce and a scrape do, whatever they came over (HTTP routes, UDP): the private-mode
// and passkey checks, the store call with the clock and peer lifetime, and the interval with its random spread.
import type { TrackerConfig } from "./config.ts";
import { TrackerError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { InstanceCounters } from "./metrics/instance-counters.ts";
import { callStore, callStoreNow, storeFailure } from "./routes/common.ts";
import { StoreOutageLog } from "./store-outage.ts";
import { PASSKEY_PATTERN } from "./store/account-store.ts";
import type { AnnounceInput, AnnounceRefusal, AnnounceResult, BytesAnnounce, SwarmCounts, SwarmStore, WrittenSample } from "./store/swarm-store.ts";

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

/** Seeding time between two announces counts up to the interval we ask for plus this much. */
const SEEDING_GRACE_SEC = 60;

export async function announcePeer(t: TrackerCore, input: Omit<AnnounceInput, "now" | "peerTtlMs">): Promise<AnnounceOutcome> {
  const now = announcePeerNow(t, input);
  if (now !== null) return now;
  const store = t.requireStore();
  const call = storeInput(t.config, input);
  return outcome(t.config, await callStore(t, "announce", () => store.announce(call)));
}

/**
 * announcePeer answered at once by a store in this process (SwarmStore.announceNow): the same checks,
 * failures and outcome without a promise, so an HTTP server can be handed its Response in the same
 * call. Null when the store must be awaited (announcePeer then).
 */
export function announcePeerNow(t: TrackerCore, input: Omit<AnnounceInput, "now" | "peerTtlMs">): AnnounceOutcome | null {
  const store = t.requireStore();
  if (!store.announceNow) return null;
  const call = storeInput(t.config, input);
  return outcome(
    t.config,
    callStoreNow(t, "announce", () => store.announceNow!(call)),
  );
}

/** The store's input: the request's, the clock and the configured lifetimes; the passkey checked first. */
function storeInput(config: TrackerConfig, input: Omit<AnnounceInput, "now" | "peerTtlMs">): AnnounceInput {
  requirePasskey(config, input.passkey);
  const seedCapMs = (config.intervalSec + config.intervalSpreadSec + SEEDING_GRACE_SEC) * 1000;
  // The passkey and allowlist checks happen inside the store's one call (one script on Redis).
  return { ...input, now: Date.now(), peerTtlMs: config.peerTtlSec * 1000, allowlistOnly: config.privateMode, seedCapMs };
}

function outcome(config: TrackerConfig, result: AnnounceResult): AnnounceOutcome {
  if (result.refused) throw refusal(result.refused);
  return { result, interval: nextInterval(config) };
}

/** Seconds until the next announce, spread at random so clients do not announce in lockstep. */
export function nextInterval(config: TrackerConfig): number {
  return config.intervalSec + Math.floor(Math.random() * (config.intervalSpreadSec + 1));
}

/** What announcePeerInto fills in before the store call; the rest is the caller's. */
export type BytesAnnounceFields = Omit<BytesAnnounce, "now" | "peerTtlMs" | "allowlistOnly" | "seedCapMs" | "passkey">;

/**
 * announcePeer for a store that writes the sample into the caller's buffer (SwarmStore.announceInto,
 * see there), answered at once; null when the store has no announceInto. `input` is filled in and
 * handed to the store (the caller may reuse it); the answer is the store's (valid until its next call).
 */
export function announcePeerInto(t: TrackerCore, input: BytesAnnounceFields, out: Uint8Array, outAt: number): WrittenSample | null {
  const { config } = t;
  const store = t.requireStore();
  if (!store.announceInto) return null;
  requirePasskey(config, undefined);
  const call = input as BytesAnnounce;
  call.now = Date.now();
  call.peerTtlMs = config.peerTtlSec * 1000;
  call.allowlistOnly = config.privateMode;
  call.seedCapMs = (config.intervalSec + config.intervalSpreadSec + SEEDING_GRACE_SEC) * 1000;
  // callStoreNow written out: its closure was an allocation per announce (about 120 bytes: the
  // function and two scopes), the only one left on UDP's path.
  let result: WrittenSample;
  try {
    result = store.announceInto(call, out, outAt);
  } catch (cause) {
    throw storeFailure(t, "announce", cause);
  }
  t.outage.succeeded();
  if (result.refused) throw refusal(result.refused);
  return result;
}

/**
 * Counts per info hash (hex), in order; `undefined` for a torrent a private tracker does not serve.
 * A passkey, when given (or required), must name an enabled user.
 */
export async function scrapeCounts(t: TrackerCore, infoHashes: string[], passkey?: string): Promise<Array<SwarmCounts | undefined>> {
  const store = t.requireStore();
  requirePasskey(t.config, passkey);
  if (passkey !== undefined && !(await callStore(t, "passkey check", () => store.accounts.passkeyEnabled(passkey)))) {
    throw refusal("unknown-passkey");
  }
  let allowed: boolean[] | undefined;
  if (t.config.privateMode) allowed = await callStore(t, "allowlist check", () => store.accounts.areAllowed(infoHashes));
  const wanted = allowed ? infoHashes.filter((_, i) => allowed[i]) : infoHashes;
  const counts = wanted.length === 0 ? [] : await callStore(t, "scrape", () => store.scrape(wanted, Date.now()));
  let next = 0;
  return infoHashes.map((_, i) => (allowed && !allowed[i] ? undefined : (counts[next++] ?? { complete: 0, incomplete: 0, downloaded: 0 })));
}

function requirePasskey(config: TrackerConfig, passkey: string | undefined): void {
  if (config.privateMode && passkey === undefined) {
    throw new TrackerError("passkey-required", "this private tracker needs your passkey: announce at /<passkey>/announce");
  }
  if (passkey !== undefined && !PASSKEY_PATTERN.test(passkey)) throw refusal("unknown-passkey");
}

function refusal(why: AnnounceRefusal): TrackerError {
  return why === "unknown-passkey"
    ? new TrackerError("unknown-passkey", "unknown or disabled passkey")
    : new TrackerError("not-allowed", "this torrent is not registered with this private tracker");
}
