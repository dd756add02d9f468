// What the tracker needs from swarm state; the memory store and the Upstash store implement it.
import type { AccountStore } from "./account-store.ts";

export type AnnounceEvent = "started" | "completed" | "stopped" | "";

export interface AnnounceInput {
  /** 40 lowercase hex digits. */
  infoHash: string;
  /** 40 lowercase hex digits. */
  peerId: string;
  ip: string;
  port: number;
  /** Bytes left to download; 0 means seeder. */
  left: number;
  event: AnnounceEvent;
  numwant: number;
  /**
   * The client's `key` parameter, if sent. A stored peer belongs to the address (ip and port) that
   * announced it: an announce with its peer id from another address changes nothing unless it shows
   * the same key. Stores keep it with the peer and never hand it out.
   */
  key?: string;
  /** Unix time in milliseconds, from the caller so stores and tests agree on the clock. */
  now: number;
  /** A peer not heard from for this many milliseconds is dropped. */
  peerTtlMs: number;
  /** The totals the client reports (bytes since it started on this torrent); only accounting uses them. */
  uploaded?: number;
  downloaded?: number;
  /**
   * From the announce path (`/<passkey>/announce`): the announce is refused, with nothing written,
   * unless it names an enabled user, and is then accounted to that user.
   */
  passkey?: string;
  /** Private mode: refuse (writing nothing) an info hash that is not on the allowlist. */
  allowlistOnly?: boolean;
  /**
   * The caller only needs the sample's compact forms: a store may then answer with `compact` and
   * leave `peers` empty.
   */
  compactOnly?: boolean;
  /** Longest gap between two seeding announces counted as seeding time (the interval plus grace). */
  seedCapMs?: number;
}

/**
 * An announce whose ids are bytes: the info hash at `ids[idsAt...]`, the peer id in the 20 bytes
 * after it (as a BEP 15 announce lays them out). The `key` is the 32-bit number UDP carries (it
 * matches the same key sent over HTTP as 8 upper-case hex digits, libtorrent's %08X) or HTTP's text.
 */
export interface BytesAnnounce extends Omit<AnnounceInput, "infoHash" | "peerId" | "key" | "compactOnly"> {
  ids: Uint8Array;
  idsAt: number;
  key: number | string | undefined;
  /**
   * Which compact forms are written: one family's, 4 (6 bytes each) or 6 (18 bytes each), from
   * `outAt` (a UDP reply); or "both" (an HTTP reply's `peers` and `peers6`): every sampled peer, the
   * IPv4 forms from `outAt` and the IPv6 forms from `v6At`.
   */
  family: 4 | 6 | "both";
  /** With family "both": where the IPv6 forms start in `out` (room for `numwant` of them from there). */
  v6At?: number;
}

/**
 * What announceInto did: the counts, and how many compact peers it wrote (all of the request's
 * family; a sample of `numwant` may hold fewer of them). The object is the store's own, valid until
 * its next call.
 */
export interface WrittenSample extends SwarmCounts {
  /** Compact forms written: of the request's family, or with family "both" the IPv4 ones. */
  written: number;
  /** With family "both": the IPv6 forms written (0 otherwise). */
  written6: number;
  refused?: AnnounceRefusal;
}

/** Why a store refused an announce before recording anything. */
export type AnnounceRefusal = "unknown-passkey" | "not-allowed";

export interface SwarmPeer {
  peerId: string;
  ip: string;
  port: number;
  /** Optional: the compact form (6 bytes IPv4, 18 bytes IPv6) when the store has it at hand, so replies need not re-encode it. */
  compact?: Uint8Array;
}

/** Compact peer lists: IPv4 peers 6 bytes each (BEP 23), IPv6 peers 18 bytes each (BEP 7). */
export interface CompactPeers {
  v4: Uint8Array;
  v6: Uint8Array;
}

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

export interface AnnounceResult extends SwarmCounts {
  /** The sample handed to the requester: never a peer with the requester's id (the reply uses it as is). */
  peers: SwarmPeer[];
  /** The sample as compact bytes instead of `peers`, when asked for with `compactOnly` (a store may ignore that). */
  compact?: CompactPeers;
  /** Set when the announce was refused: nothing was recorded, counts are zero and peers empty. */
  refused?: AnnounceRefusal;
}

/** One swarm among the busiest, for the dashboard. */
export interface BusySwarm {
  infoHash: string;
  seeders: number;
  leechers: number;
}

export interface StoreStats {
  torrents: number;
  seeders: number;
  leechers: number;
  announces: number;
  /** True when the store looked at only part of the data (a bounded scan) and the figures are a lower bound. */
  approximate?: boolean;
  /** Only when asked (`busiest` > 0): the swarms with the most live peers among those looked at, most first. */
  busiest?: BusySwarm[];
}

/**
 * What became of an announce that reached the store: `recorded` (the peer's entry was added, renewed
 * or removed) or `ignored` (the peer id is listed from another address and no key proved ownership:
 * answered, nothing changed).
 */
export type AnnounceOutcome = "recorded" | "ignored";

export interface AnnounceTally {
  event: AnnounceEvent;
  outcome: AnnounceOutcome;
  count: number;
}

/**
 * Totals the store keeps itself, so every tracker instance on one store reports the same numbers
 * (on Workers a counter in one isolate's memory would mean nothing). Updated by the announce and
 * scrape calls themselves, never by an extra call.
 */
export interface StoreCounters {
  /** Announces that reached the store, by event and outcome (combinations never seen are left out). */
  announces: AnnounceTally[];
  /** Scrape requests that reached the store. */
  scrapes: number;
  /** Announces in each of the last CHART_MINUTES minutes (counters.ts), oldest first; the last is `now`'s minute. */
  perMinute: number[];
}

export interface SwarmStore {
  /** Users, the allowlist and accounting (private trackers), kept in the same backend as the swarms. */
  readonly accounts: AccountStore;
  announce(input: AnnounceInput): Promise<AnnounceResult>;
  /**
   * Optional: the same announce, answered at once, from a store that holds everything in this
   * process (the memory store). Callers use it when present: the promise levels of `announce` were
   * a measurable share of an announce.
   */
  announceNow?(input: AnnounceInput): AnnounceResult;
  /**
   * Optional (the memory store), for the UDP tracker: announceNow with the ids as the bytes a BEP 15
   * announce carries and the sample written as compact forms straight into the caller's reply, so
   * no id string, peer list or buffer is made per announce. See BytesAnnounce and WrittenSample.
   */
  announceInto?(input: BytesAnnounce, out: Uint8Array, outAt: number): WrittenSample;
  /** The store's own counters (see StoreCounters): one call. */
  counters(now: number): Promise<StoreCounters>;
  /** Counts for each info hash (hex), in the same order; unknown torrents give zeros. */
  scrape(infoHashes: string[], now: number): Promise<SwarmCounts[]>;
  /** Totals over live swarms (bounded work); with `busiest` > 0, also that many of the busiest swarms. */
  stats(now: number, busiest?: number): Promise<StoreStats>;
  /**
   * Optional, for full scrape (off by default): up to `limit` live swarms as [info hash hex, counts].
   * A store that cannot list cheaply leaves it out and full scrape answers with a failure.
   */
  listSwarms?(now: number, limit: number): Promise<Array<[string, SwarmCounts]>>;
}

/**
 * Why a store call failed: nothing answered (`unreachable`), the backend answered with an error
 * (`backend-error`: Upstash or Redis refused or failed the call), or its answer made no sense
 * (`bad-reply`); `unexpected` is anything else a store threw.
 */
export type StoreFailureKind = "unreachable" | "backend-error" | "bad-reply" | "unexpected";

/**
 * Thrown by a store whose backend failed; the tracker turns it into a bencoded failure. The message
 * goes to the log, so it must never hold the call's arguments (peer ids, addresses).
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  readonly code = "store-unavailable";
  constructor(
    readonly kind: StoreFailureKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
