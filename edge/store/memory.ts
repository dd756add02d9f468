// The embedded swarm store: everything in this process's memory, for local use and tests. Each
// announce costs O(numwant) plus amortised O(1) expiry and eviction (see memory-swarm.ts for how a
// swarm keeps its peers). Bounded: at most `maxSwarms` swarms and `downloaded` histories and
// `maxPeers` peers, so a flood of announces for made-up info hashes costs a bounded amount of memory.
import { AddressBytes } from "./address-bytes.ts";
import { mayChange, Swarm, type PeerEntry, type PeerTally } from "./memory-swarm.ts";
import { DEFAULT_CONFIG } from "../config.ts";
import { BusiestSwarms, MemoryCounters } from "./counters.ts";
import { MemoryAccounts } from "./memory-accounts.ts";
import { type PeerList, SLOT_BYTES } from "./memory-peer-list.ts";
import { Sampler } from "./memory-sample.ts";
import { RecencyList } from "./recency-list.ts";
import type { AnnounceInput, AnnounceResult, CompactPeers, StoreCounters, StoreStats, SwarmCounts, SwarmPeer, SwarmStore } from "./swarm-store.ts";

export interface MemoryStoreOptions {
  /** Most swarms held; a new one evicts the least recently active. Also the most `downloaded` histories kept. */
  maxSwarms?: number;
  /** Most peers held over all swarms; a new one evicts the oldest peer of the least recently active swarm. */
  maxPeers?: number;
  /** Random numbers in [0, 1) for sampling. */
  random?: () => number;
}

export class MemorySwarmStore implements SwarmStore {
  /** Swarms by info hash, for lookup. */
  private readonly swarms = new Map<string, Swarm>();
  /**
   * The swarms by last activity (an announce moves its swarm to the newest end): the swarms' own
   * links rather than the Map's order, so an announce moves its swarm without a Map delete and set,
   * and the sweep of abandoned swarms needs no iterator.
   */
  private readonly byActivity = new RecencyList<Swarm>();
  private readonly tally: PeerTally = { peers: 0 };
  /**
   * Completed-download counts outlive their swarm, up to `maxSwarms` of them: ordered by last
   * completion, the least recent dropped first. Only swarms with a completion have one.
   */
  private readonly downloaded = new Map<string, number>();
  private readonly maxSwarms: number;
  private readonly maxPeers: number;
  private readonly counters_ = new MemoryCounters();
  readonly accounts: MemoryAccounts;
  private readonly sampler: Sampler;
  private readonly addresses = new AddressBytes();

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxSwarms = opts.maxSwarms ?? DEFAULT_CONFIG.maxSwarms;
    this.maxPeers = opts.maxPeers ?? DEFAULT_CONFIG.maxPeers;
    this.sampler = new Sampler(opts.random ?? Math.random);
    this.accounts = new MemoryAccounts(this.maxPeers);
  }

  /** What the store holds now, expired entries included until they are swept (for tests and the memory bench). */
  footprint(): { swarms: number; peers: number; histories: number } {
    return { swarms: this.swarms.size, peers: this.tally.peers, histories: this.downloaded.size };
  }

  async announce(input: AnnounceInput): Promise<AnnounceResult> {
    return this.announceNow(input);
  }

  announceNow(input: AnnounceInput): AnnounceResult {
    // A refused announce (unknown passkey, torrent off the allowlist) changes nothing, counters included.
    const user = this.accounts.admit(input);
    if (typeof user === "string") return { complete: 0, incomplete: 0, downloaded: 0, peers: [], refused: user };
    const { infoHash, peerId, now } = input;
    this.dropAbandonedSwarms(now);
    let swarm = this.swarms.get(infoHash);
    if (swarm) {
      swarm.expire(now);
      this.byActivity.touch(swarm);
    } else {
      // Nobody to remove: a stopped for an unknown swarm must not evict a live one to make room.
      if (input.event === "stopped") {
        this.counters_.announced(input.event, "recorded", now);
        if (user) this.accounts.record(user, input, false);
        return { ...this.countsOf(infoHash, undefined), peers: [] };
      }
      if (this.swarms.size >= this.maxSwarms) this.evictLeastActiveSwarm();
      swarm = new Swarm(this.tally, infoHash);
      this.swarms.set(infoHash, swarm);
      this.byActivity.append(swarm);
    }
    swarm.expiresAt = now + input.peerTtlMs;

    const seeder = input.left === 0 || input.event === "completed";
    const previous = swarm.byId.get(peerId);
    if (previous && !mayChange(previous, input.ip, input.port, input.key)) {
      // Someone else's entry: record nothing and answer as usual, leaving that entry out like the
      // requester's own (a client whose address changed still gets peers; it is listed again once
      // the old entry has expired).
      this.counters_.announced(input.event, "ignored", now);
      const sample = input.event === "stopped" ? { peers: [] } : this.sample(swarm, seeder, previous, input.numwant, input.compactOnly === true);
      return withSample(this.countsOf(infoHash, swarm), sample);
    }
    this.counters_.announced(input.event, "recorded", now);
    if (user) this.accounts.record(user, input, previous?.seeder === true);
    if (input.event === "completed" && !previous?.seeder) this.countDownload(infoHash);
    let self: PeerEntry | null = null;
    if (input.event === "stopped") {
      if (previous) swarm.remove(previous);
    } else if (previous && previous.ip === input.ip && previous.port === input.port) {
      // The common case, a peer announcing again from where it did: its entry renewed, nothing allocated.
      swarm.renew(previous, seeder, now + input.peerTtlMs, input.key);
      self = previous;
    } else {
      if (previous) swarm.remove(previous);
      // Encoded once here rather than in every reply that samples this peer.
      const compact = this.addresses.compact(input.ip, input.port);
      self = { peerId, ip: input.ip, port: input.port, compact, seeder, slot: 0, expiresAt: now + input.peerTtlMs, key: input.key, older: null, newer: null };
      while (this.tally.peers >= this.maxPeers) this.evictOldestPeer();
      swarm.add(self);
    }
    const sample = self === null ? { peers: [] } : this.sample(swarm, seeder, self, input.numwant, input.compactOnly === true);
    const counts = this.countsOf(infoHash, swarm);
    if (swarm.size === 0) this.dropSwarm(swarm);
    return withSample(counts, sample);
  }

  async counters(now: number): Promise<StoreCounters> {
    return this.counters_.snapshot(now);
  }

  async scrape(infoHashes: string[], now: number): Promise<SwarmCounts[]> {
    this.counters_.scraped();
    return infoHashes.map((hash) => {
      const swarm = this.swarms.get(hash);
      swarm?.expire(now);
      return this.countsOf(hash, swarm);
    });
  }

  async stats(now: number, busiest = 0): Promise<StoreStats> {
    const top = new BusiestSwarms(busiest);
    let seeders = 0;
    let leechers = 0;
    let torrents = 0;
    for (let swarm = this.byActivity.oldest; swarm !== null; ) {
      const next = swarm.newer;
      swarm.expire(now);
      if (swarm.size === 0) {
        this.dropSwarm(swarm);
      } else {
        torrents++;
        seeders += swarm.seeders.length;
        leechers += swarm.leechers.length;
        top.offer(swarm.infoHash, swarm.seeders.length, swarm.leechers.length);
      }
      swarm = next;
    }
    const stats: StoreStats = { torrents, seeders, leechers, announces: this.counters_.total() };
    if (busiest > 0) stats.busiest = top.list();
    return stats;
  }

  async listSwarms(now: number, limit: number): Promise<Array<[string, SwarmCounts]>> {
    this.counters_.scraped();
    const out: Array<[string, SwarmCounts]> = [];
    for (let swarm = this.byActivity.oldest; swarm !== null && out.length < limit; swarm = swarm.newer) {
      swarm.expire(now);
      if (swarm.size > 0) out.push([swarm.infoHash, this.countsOf(swarm.infoHash, swarm)]);
    }
    return out;
  }

  private countsOf(hash: string, swarm: Swarm | undefined): SwarmCounts {
    return {
      complete: swarm?.seeders.length ?? 0,
      incomplete: swarm?.leechers.length ?? 0,
      downloaded: this.downloaded.get(hash) ?? 0,
    };
  }

  /** Swarms whose last announce is older than every peer's lifetime hold no live peer: drop them. */
  private dropAbandonedSwarms(now: number): void {
    for (let swarm = this.byActivity.oldest; swarm !== null && swarm.expiresAt <= now; swarm = this.byActivity.oldest) this.dropSwarm(swarm);
  }

  private dropSwarm(swarm: Swarm): void {
    swarm.discard();
    this.swarms.delete(swarm.infoHash);
    this.byActivity.remove(swarm);
  }

  private evictLeastActiveSwarm(): void {
    this.dropSwarm(this.byActivity.oldest!);
  }

  /**
   * Makes room for one peer: the oldest peer of the least recently active swarm goes (the
   * announcing swarm has just moved to the back, so it is first only when it is the only one).
   */
  private evictOldestPeer(): void {
    const swarm = this.byActivity.oldest!;
    swarm.removeOldest();
    if (swarm.size === 0 && this.swarms.size > 1) this.dropSwarm(swarm);
  }

  private countDownload(hash: string): void {
    const count = (this.downloaded.get(hash) ?? 0) + 1;
    this.downloaded.delete(hash);
    this.downloaded.set(hash, count);
    if (this.downloaded.size > this.maxSwarms) this.downloaded.delete(this.downloaded.keys().next().value!);
  }

  /**
   * Up to `want` distinct peers other than `self`, picked uniformly at random: leechers only for a
   * seeder, anyone for a leecher, from the virtual concatenation [leechers..., seeders...]. As the
   * compact bytes alone when the caller only needs those (copied from the role lists' buffers,
   * no entry read), else as the entries themselves (the caller only reads them, and an entry's id,
   * address and compact form never change: a re-announce from another address makes a new entry).
   */
  private sample(swarm: Swarm, seeder: boolean, self: PeerEntry, want: number, compactOnly: boolean): Sample {
    const first = swarm.leechers;
    const split = first.length;
    const n = seeder ? split : split + swarm.seeders.length;
    // Where the requester's own entry sits in the pool, if it is there (it may be someone else's
    // entry, on an ignored announce, with another role than the requester's).
    const skip = self.seeder ? (seeder ? -1 : split + self.slot) : self.slot;
    const count = this.sampler.draw(n, want, skip);
    const picked = this.sampler.picked;
    if (compactOnly) return { peers: [], compact: copyCompact(first, swarm.seeders, picked, count) };
    const peers: SwarmPeer[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = picked[i]!;
      peers[i] = at < split ? first.entries[at]! : swarm.seeders.entries[at - split]!;
    }
    return { peers };
  }
}

interface Sample {
  peers: SwarmPeer[];
  compact?: CompactPeers;
}

/** The result from fresh counts: they gain the sample's fields in place (object spreads were a measurable cost per announce). */
function withSample(counts: SwarmCounts, sample: Sample): AnnounceResult {
  const result = counts as AnnounceResult;
  result.peers = sample.peers;
  if (sample.compact) result.compact = sample.compact;
  return result;
}

/** The compact forms of the picked positions of [first..., second...], split by family. */
function copyCompact(first: PeerList, second: PeerList, picked: Int32Array, count: number): CompactPeers {
  const split = first.length;
  let n4 = 0;
  for (let i = 0; i < count; i++) {
    const at = picked[i]!;
    if ((at < split ? first.lens[at] : second.lens[at - split]) === 6) n4++;
  }
  const v4 = new Uint8Array(n4 * 6);
  const v6 = new Uint8Array((count - n4) * 18);
  let at4 = 0;
  let at6 = 0;
  // Plain loops: a native `set` call costs more than moving 6 bytes.
  for (let i = 0; i < count; i++) {
    let at = picked[i]!;
    const list = at < split ? first : second;
    if (at >= split) at -= split;
    const bytes = list.bytes;
    const base = at * SLOT_BYTES;
    if (list.lens[at] === 6) {
      for (let k = 0; k < 6; k++) v4[at4++] = bytes[base + k]!;
    } else {
      for (let k = 0; k < 18; k++) v6[at6++] = bytes[base + k]!;
    }
  }
  return { v4, v6 };
}
