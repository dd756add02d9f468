// Swarm state in Redis through @upstash/redis: one script call per announce, one pipeline per scrape.
// Only fetch underneath, so the same code runs in workerd, Deno and Bun.
import { Redis } from "@upstash/redis/cloudflare";
import { toHex } from "../../shared/bytes.ts";
import { ANNOUNCE_SCRIPT } from "./announce-script.ts";
import {
  BusiestSwarms,
  CHART_MINUTES,
  COUNTER_SHARDS,
  counterShard,
  MINUTE_KEY_TTL_MS,
  minuteOf,
  SCRAPES_FIELD,
  sumHashes,
  talliesFromHash,
} from "./counters.ts";
import { UpstashAccounts, type AccountKeys } from "./upstash-accounts.ts";
import { type RedisClient, storeFailure } from "./upstash-client.ts";
import { addressToText, parseAnnounceReply, toCount } from "./upstash-reply.ts";
import type { AnnounceInput, AnnounceResult, StoreCounters, StoreStats, SwarmCounts, SwarmStore } from "./swarm-store.ts";

export interface UpstashStoreOptions {
  /** Prefix of every key; several trackers can share one database with different prefixes. */
  prefix?: string;
  /** How long `downloaded` and the announce count of a swarm with a completed download outlive its last announce. Default 30 days. */
  historyTtlMs?: number;
  /** Swarm keys outlive their newest peer by this much, so clock skew between caller and Redis cannot drop live peers. Default 60 s. */
  keyTtlMarginMs?: number;
  /** `stats` looks at most this many swarms (SCAN), then reports `approximate`. Default 10,000. */
  statsSwarmLimit?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SCAN_BATCH = 1000;

export class UpstashSwarmStore implements SwarmStore {
  private readonly prefix: string;
  private readonly historyTtlMs: number;
  private readonly statsSwarmLimit: number;
  private readonly keyTtlMarginMs: number;
  private scriptSha: Promise<string> | undefined;
  readonly accounts: UpstashAccounts;

  constructor(
    private readonly redis: RedisClient,
    opts: UpstashStoreOptions = {},
  ) {
    this.prefix = opts.prefix ?? "bt";
    this.historyTtlMs = opts.historyTtlMs ?? 30 * DAY_MS;
    this.statsSwarmLimit = opts.statsSwarmLimit ?? 10_000;
    this.keyTtlMarginMs = opts.keyTtlMarginMs ?? 60_000;
    this.accounts = new UpstashAccounts(redis, this.keys, (what, call) => this.guard(what, call));
  }

  /** Where everything lives; the account keys are described in announce-script.ts and upstash-accounts.ts. */
  readonly keys: AccountKeys = {
    swarm: (infoHash) => this.swarmKeys(infoHash),
    torrent: (infoHash) => `${this.prefix}:{${infoHash}}:t`,
    usage: (infoHash) => `${this.prefix}:{${infoHash}}:u`,
    user: (passkey) => `${this.prefix}:pk:${passkey}`,
    users: () => `${this.prefix}:users`,
    passkeys: () => `${this.prefix}:passkeys`,
    torrents: () => `${this.prefix}:torrents`,
  };

  /** The four keys of one swarm, all with the hash tag {<info hash>} so they live in one cluster slot. */
  swarmKeys(infoHash: string): [seeders: string, leechers: string, addresses: string, history: string] {
    const base = `${this.prefix}:{${infoHash}}`;
    return [`${base}:s`, `${base}:l`, `${base}:a`, `${base}:h`];
  }

  /**
   * The counters hash and the key of one minute's announce count that an announce for `infoHash`
   * writes: those of its shard (counters.ts). Outside every swarm's hash tag (see announce-script.ts
   * for what that means on a Redis Cluster).
   */
  counterKeys(infoHash: string, now: number): [counters: string, minute: string] {
    const shard = counterShard(infoHash);
    return [this.countersKey(shard), this.minuteKey(minuteOf(now), shard)];
  }

  private countersKey(shard: number): string {
    return `${this.prefix}:counters:${shard}`;
  }

  private minuteKey(minute: number, shard: number): string {
    return `${this.prefix}:apm:${minute}:${shard}`;
  }

  private allCountersKeys(): string[] {
    return Array.from({ length: COUNTER_SHARDS }, (_, shard) => this.countersKey(shard));
  }

  async announce(input: AnnounceInput): Promise<AnnounceResult> {
    const { keys, args } = this.scriptCall(input);
    const reply = await this.guard("announce", () => this.runScript(keys, args));
    return parseAnnounceReply(reply);
  }

  /** KEYS and ARGV of the announce script for this announce (announce-script.ts documents them). */
  scriptCall(input: AnnounceInput): { keys: string[]; args: string[] } {
    const { infoHash } = input;
    const keys = [
      ...this.swarmKeys(infoHash),
      ...this.counterKeys(infoHash, input.now),
      this.keys.torrent(infoHash),
      `${this.prefix}:{${infoHash}}:c`,
      this.keys.usage(infoHash),
    ];
    if (input.passkey !== undefined) keys.push(this.keys.user(input.passkey));
    const args = [
      input.peerId,
      addressToText(input.ip, input.port),
      String(input.now),
      String(input.now + input.peerTtlMs),
      input.left === 0 || input.event === "completed" ? "1" : "0",
      input.event,
      String(Math.max(0, Math.floor(input.numwant))),
      String(Math.random()),
      String(input.peerTtlMs + this.keyTtlMarginMs),
      String(this.historyTtlMs),
      input.key ?? "",
      String(MINUTE_KEY_TTL_MS),
      input.allowlistOnly ? "1" : "0",
      String(input.uploaded ?? 0),
      String(input.downloaded ?? 0),
      String(input.seedCapMs ?? 0),
    ];
    return { keys, args };
  }

  async scrape(infoHashes: string[], now: number): Promise<SwarmCounts[]> {
    if (infoHashes.length === 0) return [];
    const live = `(${now}`;
    const replies = await this.guard("scrape", () => {
      // Counted in the same pipeline: no extra call. Its reply comes first.
      const pipe = this.redis.pipeline().hincrby(this.countersKey(counterShard(infoHashes[0]!)), SCRAPES_FIELD, 1);
      for (const hash of infoHashes) {
        const [seeders, leechers, , history] = this.swarmKeys(hash);
        pipe.zcount(seeders, live, "+inf").zcount(leechers, live, "+inf").hget(history, "downloaded");
      }
      return pipe.exec();
    });
    return infoHashes.map((_, i) => ({
      complete: toCount(replies[i * 3 + 1]),
      incomplete: toCount(replies[i * 3 + 2]),
      downloaded: toCount(replies[i * 3 + 3]),
    }));
  }

  /** One pipeline: every shard's counters hash (HGETALL each) and one MGET of every shard's last CHART_MINUTES minute keys. */
  async counters(now: number): Promise<StoreCounters> {
    const first = minuteOf(now) - CHART_MINUTES + 1;
    const minuteKeys: string[] = [];
    for (let i = 0; i < CHART_MINUTES; i++) for (let shard = 0; shard < COUNTER_SHARDS; shard++) minuteKeys.push(this.minuteKey(first + i, shard));
    const replies = await this.guard("counters", () => {
      const pipe = this.redis.pipeline();
      for (const key of this.allCountersKeys()) pipe.hgetall(key);
      return pipe.mget(...minuteKeys).exec<unknown[]>();
    });
    const hash = sumHashes(replies.slice(0, COUNTER_SHARDS) as Array<Record<string, unknown> | null>);
    const counts = (replies[COUNTER_SHARDS] as unknown[]).map(toCount);
    const perMinute = Array.from({ length: CHART_MINUTES }, (_, i) => counts.slice(i * COUNTER_SHARDS, (i + 1) * COUNTER_SHARDS).reduce((a, b) => a + b, 0));
    return { announces: talliesFromHash(hash), scrapes: toCount(hash[SCRAPES_FIELD]), perMinute };
  }

  /** Every announce counted, over all shards: one pipeline. */
  private async announceTotal(): Promise<number> {
    const hashes = await this.guard("stats", () => {
      const pipe = this.redis.pipeline();
      for (const key of this.allCountersKeys()) pipe.hgetall(key);
      return pipe.exec<Array<Record<string, unknown> | null>>();
    });
    return talliesFromHash(sumHashes(hashes)).reduce((sum, t) => sum + t.count, 0);
  }

  /**
   * Peers are counted on request, never on the announce path (a live-peer gauge would need every
   * expiry to reach one key, which TTL expiry cannot do): SCAN over the swarms' history keys, then
   * one pipeline of counts per batch. Looks at no more than
   * `statsSwarmLimit` swarms and marks the answer `approximate` when it stopped early. `announces`
   * is the tracker-wide counter (every announce since the counters began), read first.
   */
  async stats(now: number, busiest = 0): Promise<StoreStats> {
    const top = new BusiestSwarms(busiest);
    const announces = await this.announceTotal();
    const totals: StoreStats = { torrents: 0, seeders: 0, leechers: 0, announces };
    const live = `(${now}`;
    const pattern = `${this.prefix}:{*}:h`;
    let cursor = "0";
    let seen = 0;
    let skipped = false;
    // SCAN may return few matches per call on a large database; bound the calls as well as the keys.
    let calls = 0;
    const maxCalls = Math.ceil(this.statsSwarmLimit / SCAN_BATCH) * 10;
    do {
      const [next, keys] = await this.guard("stats", () => this.redis.scan(cursor, { match: pattern, count: SCAN_BATCH }));
      cursor = String(next);
      calls++;
      const batch = keys.map(String).slice(0, this.statsSwarmLimit - seen);
      seen += batch.length;
      if (batch.length < keys.length) skipped = true;
      if (batch.length > 0) {
        const replies = await this.guard("stats", () => {
          const pipe = this.redis.pipeline();
          for (const historyKey of batch) {
            const base = historyKey.slice(0, -2);
            pipe.zcount(`${base}:s`, live, "+inf").zcount(`${base}:l`, live, "+inf");
          }
          return pipe.exec();
        });
        batch.forEach((_, i) => {
          const seeders = toCount(replies[i * 2]);
          const leechers = toCount(replies[i * 2 + 1]);
          if (seeders + leechers > 0) totals.torrents++;
          // The hash tag of "<prefix>:{<info hash>}:h".
          top.offer(batch[i]!.slice(batch[i]!.lastIndexOf("{") + 1, -3), seeders, leechers);
          totals.seeders += seeders;
          totals.leechers += leechers;
        });
      }
    } while (cursor !== "0" && seen < this.statsSwarmLimit && calls < maxCalls);
    if (cursor !== "0" || skipped) totals.approximate = true;
    if (busiest > 0) totals.busiest = top.list();
    return totals;
  }

  /** EVALSHA; only when Redis has not seen the script yet (NOSCRIPT), EVAL, which also caches it there. */
  private async runScript(keys: string[], args: string[]): Promise<unknown> {
    this.scriptSha ??= sha1Hex(ANNOUNCE_SCRIPT);
    const sha = await this.scriptSha;
    try {
      return await this.redis.evalsha(sha, keys, args);
    } catch (error) {
      if (!(error instanceof Error) || !/NOSCRIPT/i.test(error.message)) throw error;
      return await this.redis.eval(ANNOUNCE_SCRIPT, keys, args);
    }
  }

  /** Every failure of the backend (network, HTTP, Redis error) becomes one error the app knows how to answer. */
  private async guard<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeFailure(what, error);
    }
  }
}

/**
 * The store for a deployment whose environment has Upstash credentials, or null when it has not
 * (then the app falls back to the memory store). Fails fast on a dead network instead of the
 * client's default of five retries, since a tracker client simply announces again later.
 */
export function upstashStoreFromEnv(env: Record<string, string | undefined>, opts: UpstashStoreOptions = {}): UpstashSwarmStore | null {
  const url = env.UPSTASH_REDIS_REST_URL;
  const token = env.UPSTASH_REDIS_REST_TOKEN;
  if (!url || !token) return null;
  const redis = new Redis({
    url,
    token,
    enableTelemetry: false,
    // One request per store call, sent at once: the store already batches where batching helps.
    enableAutoPipelining: false,
    retry: { retries: 1, backoff: () => 50 },
  });
  return new UpstashSwarmStore(redis, opts);
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}
