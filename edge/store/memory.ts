// The embedded swarm store: everything in this process's memory, for local use and tests. Each
// announce costs O(numwant) plus amortised O(1) expiry (see memory-swarm.ts for how a swarm keeps
// its peers).
import { encodeCompactPeer } from "../../shared/compact.ts";
import { mayChange, Swarm, type PeerEntry } from "./memory-swarm.ts";
import type { AnnounceInput, AnnounceResult, StoreStats, SwarmCounts, SwarmPeer, SwarmStore } from "./swarm-store.ts";

export class MemorySwarmStore implements SwarmStore {
  private readonly swarms = new Map<string, Swarm>();
  /** Completed-download counts outlive their swarm (as long as this process lives). */
  private readonly downloaded = new Map<string, number>();
  private readonly allowlist = new Set<string>();
  private announces = 0;
  /** For rejection sampling: drawnAt[i] === drawStamp when pool position i was drawn in this draw. */
  private drawnAt = new Uint32Array(256);
  private drawStamp = 0;

  constructor(private readonly random: () => number = Math.random) {}

  async announce(input: AnnounceInput): Promise<AnnounceResult> {
    this.announces++;
    const { infoHash, peerId, now } = input;
    this.dropAbandonedSwarms(now);
    let swarm = this.swarms.get(infoHash);
    if (!swarm) {
      swarm = new Swarm();
      this.swarms.set(infoHash, swarm);
    }
    swarm.expire(now);
    // Re-inserting keeps this.swarms ordered by last activity, like each swarm's peers.
    this.swarms.delete(infoHash);
    this.swarms.set(infoHash, swarm);
    swarm.expiresAt = now + input.peerTtlMs;

    const seeder = input.left === 0 || input.event === "completed";
    const previous = swarm.byId.get(peerId);
    if (previous && !mayChange(previous, input.ip, input.port, input.key)) {
      // Someone else's entry: record nothing and answer as usual, leaving that entry out like the
      // requester's own (a client whose address changed still gets peers; it is listed again once
      // the old entry has expired).
      const peers = input.event === "stopped" ? [] : this.sample(swarm, seeder, previous, input.numwant);
      return { ...this.countsOf(infoHash, swarm), peers };
    }
    if (previous) swarm.remove(previous);
    if (input.event === "completed" && !previous?.seeder) {
      this.downloaded.set(infoHash, (this.downloaded.get(infoHash) ?? 0) + 1);
    }
    let self: PeerEntry | null = null;
    if (input.event !== "stopped") {
      // Encoded once here rather than in every reply that samples this peer.
      const compact = previous && previous.ip === input.ip && previous.port === input.port ? previous.compact : encodeCompactPeer(input);
      self = { peerId, ip: input.ip, port: input.port, compact, seeder, slot: 0, expiresAt: now + input.peerTtlMs, key: input.key };
      swarm.add(self);
    }
    const peers = self === null ? [] : this.sample(swarm, seeder, self, input.numwant);
    const counts = this.countsOf(infoHash, swarm);
    if (swarm.size === 0) this.swarms.delete(infoHash);
    return { ...counts, peers };
  }

  async scrape(infoHashes: string[], now: number): Promise<SwarmCounts[]> {
    return infoHashes.map((hash) => {
      const swarm = this.swarms.get(hash);
      swarm?.expire(now);
      return this.countsOf(hash, swarm);
    });
  }

  async stats(now: number): Promise<StoreStats> {
    let seeders = 0;
    let leechers = 0;
    let torrents = 0;
    for (const [hash, swarm] of this.swarms) {
      swarm.expire(now);
      if (swarm.size === 0) {
        this.swarms.delete(hash);
        continue;
      }
      torrents++;
      seeders += swarm.seeders.length;
      leechers += swarm.leechers.length;
    }
    return { torrents, seeders, leechers, announces: this.announces };
  }

  async isAllowed(infoHash: string): Promise<boolean> {
    return this.allowlist.has(infoHash);
  }

  async allow(infoHash: string): Promise<void> {
    this.allowlist.add(infoHash);
  }

  async listSwarms(now: number, limit: number): Promise<Array<[string, SwarmCounts]>> {
    const out: Array<[string, SwarmCounts]> = [];
    for (const [hash, swarm] of this.swarms) {
      if (out.length >= limit) break;
      swarm.expire(now);
      if (swarm.size > 0) out.push([hash, this.countsOf(hash, swarm)]);
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
    for (const [hash, swarm] of this.swarms) {
      if (swarm.expiresAt > now) break;
      this.swarms.delete(hash);
    }
  }

  /**
   * Up to `want` distinct peers other than `self`, picked uniformly at random: leechers only for a
   * seeder, anyone for a leecher, from the virtual concatenation [leechers..., seeders...]. The cost
   * is O(want): everyone when the pool is small, a partial shuffle of an index array when `want` is
   * at least half the pool, else rejection sampling (few repeats when picking under half).
   */
  private sample(swarm: Swarm, seeder: boolean, self: PeerEntry, want: number): SwarmPeer[] {
    const first = swarm.leechers;
    const second = seeder ? [] : swarm.seeders;
    const n = first.length + second.length;
    const split = first.length;
    const out: SwarmPeer[] = [];
    // The entries themselves, not copies: the caller only reads them, and an entry's id, address
    // and compact form never change (a re-announce makes a new entry).
    const take = (i: number) => {
      const e = i < split ? first[i]! : second[i - split]!;
      // By identity: comparing id strings would read each sampled peer's id from memory.
      if (e !== self) out.push(e);
    };
    // The requester may be in the pool: one extra pick covers for it being drawn.
    const picks = Math.min(n, want + 1);
    if (want <= 0 || n === 0) return out;
    if (picks === n) {
      for (let i = 0; i < n; i++) take(i);
    } else if (picks * 2 >= n) {
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = 0; i < picks; i++) {
        const j = i + Math.floor(this.random() * (n - i));
        const tmp = order[j]!;
        order[j] = order[i]!;
        order[i] = tmp;
        take(tmp);
      }
    } else {
      // Drawn positions are marked with this draw's stamp in a reused array: no Set per announce.
      if (this.drawnAt.length < n) this.drawnAt = new Uint32Array(Math.max(n, this.drawnAt.length * 2));
      if (this.drawStamp === 0xffffffff) {
        this.drawnAt.fill(0);
        this.drawStamp = 0;
      }
      const stamp = ++this.drawStamp;
      const drawnAt = this.drawnAt;
      let chosen = 0;
      while (chosen < picks) {
        const i = Math.floor(this.random() * n);
        if (drawnAt[i] === stamp) continue;
        drawnAt[i] = stamp;
        chosen++;
        take(i);
      }
    }
    if (out.length > want) out.length = want;
    return out;
  }
}
