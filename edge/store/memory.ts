// The embedded swarm store: everything in this process's memory, for local use and tests. Each
// announce costs O(numwant) plus amortised O(1) expiry and eviction. Ids are looked up by their
// bytes in open-addressing tables (id-index.ts) and peers are records in typed arrays
// (peer-records.ts, memory-swarm.ts), so an announce allocates nothing but what it returns, and the
// UDP tracker's (announceInto) nothing at all. Bounded: at most `maxSwarms` swarms and `downloaded`
// histories and `maxPeers` peers, so a flood of announces for made-up info hashes costs a bounded
// amount of memory.
import { toHex } from "../../shared/bytes.ts";
import { DEFAULT_CONFIG } from "../config.ts";
import { AddressBytes } from "./address-bytes.ts";
import { BusiestSwarms, MemoryCounters } from "./counters.ts";
import { DownloadHistory } from "./download-history.ts";
import { IdIndex } from "./id-index.ts";
import { MemoryAccounts } from "./memory-accounts.ts";
import { compactPeers, peerObjects, writeCompact, writeSplit } from "./memory-reply.ts";
import { Sampler } from "./memory-sample.ts";
import { type Swarm, SwarmPeers } from "./memory-swarm.ts";
import { keyText, NONE, type PeerKey } from "./peer-records.ts";
import { SwarmTable } from "./swarm-table.ts";
import type { UserRecord } from "./account-store.ts";
import type {
  AnnounceEvent,
  AnnounceInput,
  AnnounceResult,
  BytesAnnounce,
  StoreCounters,
  StoreStats,
  SwarmCounts,
  SwarmStore,
  WrittenSample,
} from "./swarm-store.ts";

export interface MemoryStoreOptions {
  /** Most swarms held; a new one evicts the least recently active. Also the most `downloaded` histories kept. */
  maxSwarms?: number;
  /** Most peers held over all swarms; a new one evicts the oldest peer of the least recently active swarm. */
  maxPeers?: number;
  /** Random numbers in [0, 1) for sampling. */
  random?: () => number;
}

/** What an announce's sample becomes: peer objects, compact forms by family, or one family written into a buffer. */
type Sink = "peers" | "compact" | "into";

const EMPTY: Uint8Array = new Uint8Array(0);

/** The announce's fields the store core reads, ids aside. */
interface Announce {
  ip: string;
  port: number;
  key?: PeerKey;
  left: number;
  event: AnnounceEvent;
  numwant: number;
  now: number;
  peerTtlMs: number;
}

export class MemorySwarmStore implements SwarmStore {
  private readonly peers = new SwarmPeers(new IdIndex());
  private readonly swarms = new SwarmTable(this.peers);
  /** Completed-download counts that outlive their swarm, up to `maxSwarms` of them. */
  private readonly downloaded: DownloadHistory;
  private readonly maxSwarms: number;
  private readonly maxPeers: number;
  private readonly counters_ = new MemoryCounters();
  readonly accounts: MemoryAccounts;
  private readonly sampler: Sampler;
  private readonly addresses = new AddressBytes();
  /** announceInto's answer, reused. */
  private readonly written: WrittenSample = { complete: 0, incomplete: 0, downloaded: 0, written: 0, written6: 0 };
  // Where the "into" sink writes (set by announceInto for the one core call); outSize 0: both
  // families, the IPv6 forms from out6At.
  private out: Uint8Array = EMPTY;
  /** The last `out` announceInto was given (a UDP server hands the same one every time) and its bytes as 16-bit words. */
  private lastOut: Uint8Array = EMPTY;
  private outWords: Uint16Array | null = null;
  private outAt = 0;
  private outSize = 6;
  private out6At = 0;
  /** The last core call's sample when it was not written into a buffer. */
  private sampled: AnnounceResult | null = null;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxSwarms = opts.maxSwarms ?? DEFAULT_CONFIG.maxSwarms;
    this.maxPeers = opts.maxPeers ?? DEFAULT_CONFIG.maxPeers;
    this.downloaded = new DownloadHistory(this.maxSwarms);
    this.sampler = new Sampler(opts.random ?? Math.random);
    this.accounts = new MemoryAccounts(this.maxPeers);
  }

  /** What the store holds now, expired entries included until they are swept (for tests and the memory bench). */
  footprint(): { swarms: number; peers: number; histories: number } {
    return { swarms: this.swarms.size, peers: this.peers.count, histories: this.downloaded.size };
  }

  async announce(input: AnnounceInput): Promise<AnnounceResult> {
    return this.announceNow(input);
  }

  announceNow(input: AnnounceInput): AnnounceResult {
    // A refused announce (unknown passkey, torrent off the allowlist) changes nothing, counters included.
    const user = this.accounts.admit(input);
    if (typeof user === "string") return { complete: 0, incomplete: 0, downloaded: 0, peers: [], refused: user };
    const counts: AnnounceResult = { complete: 0, incomplete: 0, downloaded: 0, peers: [] };
    this.sampled = counts;
    this.core(input.infoHash, input.peerId, 0, input, input.compactOnly === true ? "compact" : "peers", counts, user, input);
    this.sampled = null;
    return counts;
  }

  announceInto(input: BytesAnnounce, out: Uint8Array, outAt: number): WrittenSample {
    const result = this.written;
    result.written = 0;
    result.written6 = 0;
    result.refused = undefined;
    const { family } = input;
    const v6At = input.v6At ?? outAt;
    if (input.passkey !== undefined || input.allowlistOnly) {
      // Accounting and the allowlist are keyed by hex: the general path, its sample copied out.
      const general = this.announceNow(hexAnnounce(input));
      const v4 = general.compact && family !== 6 ? general.compact.v4 : EMPTY;
      const v6 = general.compact && family !== 4 ? general.compact.v6 : EMPTY;
      out.set(v4, outAt);
      out.set(v6, family === "both" ? v6At : outAt);
      setCounts(result, general.complete, general.incomplete, general.downloaded);
      result.written = family === 6 ? v6.length / 18 : v4.length / 6;
      if (family === "both") result.written6 = v6.length / 18;
      if (general.refused) result.refused = general.refused;
      return result;
    }
    if (out !== this.lastOut) {
      this.lastOut = out;
      this.outWords = out.byteOffset % 2 === 0 ? new Uint16Array(out.buffer, out.byteOffset, out.byteLength >> 1) : null;
    }
    this.out = out;
    this.outAt = outAt;
    this.outSize = family === 4 ? 6 : family === 6 ? 18 : 0;
    this.out6At = v6At;
    this.core(input.ids, input.ids, input.idsAt, input, "into", result, undefined, undefined);
    this.out = EMPTY;
    return result;
  }

  async counters(now: number): Promise<StoreCounters> {
    return this.counters_.snapshot(now);
  }

  async scrape(infoHashes: string[], now: number): Promise<SwarmCounts[]> {
    this.counters_.scraped();
    return infoHashes.map((hash) => {
      const swarm = this.swarms.byHex(hash);
      if (swarm) this.peers.expire(swarm, now);
      return swarm ? countsOf(swarm) : { complete: 0, incomplete: 0, downloaded: this.downloaded.of(hash) };
    });
  }

  async stats(now: number, busiest = 0): Promise<StoreStats> {
    const top = new BusiestSwarms(busiest);
    let seeders = 0;
    let leechers = 0;
    let torrents = 0;
    for (let swarm = this.swarms.byActivity.oldest; swarm !== null; ) {
      const next = swarm.newer;
      this.peers.expire(swarm, now);
      if (swarm.size === 0) {
        this.swarms.drop(swarm);
      } else {
        torrents++;
        seeders += swarm.seeders.length;
        leechers += swarm.leechers.length;
        top.offer(this.swarms.hexOf(swarm), swarm.seeders.length, swarm.leechers.length);
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
    for (let swarm = this.swarms.byActivity.oldest; swarm !== null && out.length < limit; swarm = swarm.newer) {
      this.peers.expire(swarm, now);
      if (swarm.size > 0) out.push([this.swarms.hexOf(swarm), countsOf(swarm)]);
    }
    return out;
  }

  /**
   * One announce, admitted: `infoHash` and `peerId` are hex, or the same bytes holding both from
   * `at`. Fills `counts` (and the sample, as `sink` says). `user` and `input`: the accounting's, for
   * announces with a passkey.
   */
  private core(
    infoHash: string | Uint8Array,
    peerId: string | Uint8Array,
    at: number,
    a: Announce,
    sink: Sink,
    counts: SwarmCounts,
    user: UserRecord | undefined,
    input: AnnounceInput | undefined,
  ): void {
    const { event, now } = a;
    this.dropAbandonedSwarms(now);
    const swarms = this.swarms;
    if (typeof infoHash === "string") requireHex(swarms.ids.loadHex(infoHash, 0), "info hash");
    else swarms.ids.loadBytes(infoHash, at, 0);
    let swarm = swarms.found();
    if (swarm !== null) {
      this.peers.expire(swarm, now);
      this.swarms.byActivity.touch(swarm);
    } else {
      // Nobody to remove: a stopped for an unknown swarm must not evict a live one to make room.
      if (event === "stopped") {
        this.counters_.announced(event, "recorded", now);
        if (user) this.accounts.record(user, input!, false);
        const hex = typeof infoHash === "string" ? infoHash : toHex(infoHash.subarray(at, at + 20));
        setCounts(counts, 0, 0, this.downloaded.of(hex));
        return;
      }
      if (this.swarms.size >= this.maxSwarms) this.swarms.drop(this.swarms.byActivity.oldest!);
      swarm = swarms.add(typeof infoHash === "string" ? infoHash : null);
      if (this.downloaded.size > 0) swarm.downloaded = this.downloaded.of(swarms.hexOf(swarm));
    }
    swarm.expiresAt = now + a.peerTtlMs;

    const seeder = a.left === 0 || event === "completed";
    const peers = this.peers;
    const records = peers.records;
    if (typeof peerId === "string") requireHex(peers.ids.loadHex(peerId, swarm.handle), "peer id");
    else peers.ids.loadBytes(peerId, at + 20, swarm.handle);
    const previous = peers.ids.find();
    if (previous !== NONE && !peers.mayChange(previous, a.ip, a.port, a.key)) {
      // Someone else's entry: record nothing and answer as usual, leaving that entry out like the
      // requester's own (a client whose address changed still gets peers; it is listed again once
      // the old entry has expired).
      this.counters_.announced(event, "ignored", now);
      if (event !== "stopped") this.sample(swarm, seeder, previous, a.numwant, sink, counts);
      setCounts(counts, swarm.seeders.length, swarm.leechers.length, swarm.downloaded);
      return;
    }
    this.counters_.announced(event, "recorded", now);
    const wasSeeder = previous !== NONE && records.seeder[previous] === 1;
    if (user) this.accounts.record(user, input!, wasSeeder);
    if (event === "completed" && !wasSeeder) this.countDownload(swarm);
    let self = NONE;
    if (event === "stopped") {
      if (previous !== NONE) peers.remove(swarm, previous);
    } else if (previous !== NONE && records.ips[previous] === a.ip && records.port[previous] === a.port) {
      // The common case, a peer announcing again from where it did: its record renewed in place.
      peers.renew(swarm, previous, seeder, now + a.peerTtlMs, a.key);
      self = previous;
    } else {
      if (previous !== NONE) peers.remove(swarm, previous);
      const address = this.addresses.address(a.ip, a.port);
      // Eviction removes from the index without touching the key loaded above, which add() files.
      while (peers.count >= this.maxPeers) this.evictOldestPeer();
      self = peers.add(swarm, seeder, now + a.peerTtlMs, a.ip, address, a.port, a.key);
    }
    if (self !== NONE) this.sample(swarm, seeder, self, a.numwant, sink, counts);
    setCounts(counts, swarm.seeders.length, swarm.leechers.length, swarm.downloaded);
    if (swarm.size === 0) this.swarms.drop(swarm);
  }

  /**
   * Up to `want` distinct peers other than `self`, picked at random (each equally likely, see
   * memory-sample.ts): leechers only for a seeder, anyone for a leecher, from the virtual
   * concatenation [leechers..., seeders...].
   */
  private sample(swarm: Swarm, seeder: boolean, self: number, want: number, sink: Sink, counts: SwarmCounts): void {
    const first = swarm.leechers;
    const split = first.length;
    const n = seeder ? split : split + swarm.seeders.length;
    const records = this.peers.records;
    // Where the requester's own entry sits in the pool, if it is there (it may be someone else's
    // entry, on an ignored announce, with another role than the requester's).
    const pos = records.pos[self]!;
    const skip = records.seeder[self] === 1 ? (seeder ? -1 : split + pos) : pos;
    const count = this.sampler.draw(n, want, skip);
    const picked = this.sampler.picked;
    if (sink === "into") {
      const written = counts as WrittenSample;
      if (this.outSize === 0) {
        written.written = writeSplit(first, swarm.seeders, picked, count, this.out, this.outAt, this.out, this.out6At);
        written.written6 = count - written.written;
      } else written.written = writeCompact(first, swarm.seeders, picked, count, this.outSize, this.out, this.outAt, this.outWords);
    } else if (sink === "compact") {
      this.sampled!.compact = compactPeers(first, swarm.seeders, picked, count);
    } else {
      this.sampled!.peers = peerObjects(first, swarm.seeders, picked, count, records, this.peers.ids);
    }
  }

  /** Swarms whose last announce is older than every peer's lifetime hold no live peer: drop them. */
  private dropAbandonedSwarms(now: number): void {
    for (let swarm = this.swarms.byActivity.oldest; swarm !== null && swarm.expiresAt <= now; swarm = this.swarms.byActivity.oldest) this.swarms.drop(swarm);
  }

  /**
   * Makes room for one peer: the oldest peer of the least recently active swarm goes (the
   * announcing swarm has just moved to the back, so it is first only when it is the only one).
   */
  private evictOldestPeer(): void {
    const swarm = this.swarms.byActivity.oldest!;
    this.peers.removeOldest(swarm);
    if (swarm.size === 0 && this.swarms.size > 1) this.swarms.drop(swarm);
  }

  private countDownload(swarm: Swarm): void {
    const forgotten = this.downloaded.completed(this.swarms.hexOf(swarm), ++swarm.downloaded);
    if (forgotten === undefined) return;
    const live = this.swarms.byHex(forgotten);
    if (live) live.downloaded = 0;
  }
}

function countsOf(swarm: Swarm): SwarmCounts {
  return { complete: swarm.seeders.length, incomplete: swarm.leechers.length, downloaded: swarm.downloaded };
}

function setCounts(counts: SwarmCounts, complete: number, incomplete: number, downloaded: number): void {
  counts.complete = complete;
  counts.incomplete = incomplete;
  counts.downloaded = downloaded;
}

function requireHex(loaded: boolean, what: string): void {
  if (!loaded) throw new RangeError(`the memory store takes an ${what} as 40 hex digits`);
}

/** announceInto's input as announceNow's. */
function hexAnnounce(input: BytesAnnounce): AnnounceInput {
  const { ids, idsAt, family: _, v6At: _at, ...rest } = input;
  return {
    ...rest,
    infoHash: toHex(ids.subarray(idsAt, idsAt + 20)),
    peerId: toHex(ids.subarray(idsAt + 20, idsAt + 40)),
    key: input.key === undefined ? undefined : keyText(input.key),
    compactOnly: true,
  };
}
