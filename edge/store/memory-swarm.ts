// One swarm of the embedded store: its peers in a Map by peer id, chained in the order they were last
// heard from (so expired ones sit at the front), and in one array per role with an index, so a random
// sample needs no pass over the swarm and a removal is a swap with the last (memory-peer-list.ts).
// The chain is the entries' own links rather than the Map's insertion order: a re-announce then moves
// its entry to the back without a Map delete and set (two hash operations and a tombstone each time).
import { PeerList } from "./memory-peer-list.ts";
import { RecencyList } from "./recency-list.ts";
import type { SwarmPeer } from "./swarm-store.ts";

export interface PeerEntry extends SwarmPeer {
  compact: Uint8Array;
  seeder: boolean;
  /** Position in its role's list. */
  slot: number;
  expiresAt: number;
  /** The `key` the peer announced with, if any: whoever shows it may move or remove this entry. Never sent to anyone. */
  key: string | undefined;
  /** Neighbours in the swarm's order of last announce (null at either end). */
  older: PeerEntry | null;
  newer: PeerEntry | null;
}

/**
 * Whether an announce may change this entry: it comes from the entry's address, or shows the entry's
 * key. Peer ids are public (every handshake and non-compact reply carries them), so the id alone
 * proves nothing.
 */
export function mayChange(entry: PeerEntry, ip: string, port: number, key: string | undefined): boolean {
  return (entry.ip === ip && entry.port === port) || (entry.key !== undefined && entry.key === key);
}

/** Peers held over all swarms of a store, kept by the swarms themselves so every removal counts. */
export interface PeerTally {
  peers: number;
}

export class Swarm {
  constructor(
    private readonly tally: PeerTally,
    readonly infoHash: string,
  ) {}

  /** Neighbours in the store's order of last activity (memory.ts keeps the list). */
  older: Swarm | null = null;
  newer: Swarm | null = null;

  readonly byId = new Map<string, PeerEntry>();
  readonly seeders = new PeerList();
  readonly leechers = new PeerList();
  /** The entries by last announce. */
  private readonly byAnnounce = new RecencyList<PeerEntry>();
  /** When the most recently announced peer expires: after that the whole swarm is gone. */
  expiresAt = 0;

  add(entry: PeerEntry): void {
    (entry.seeder ? this.seeders : this.leechers).add(entry);
    this.byId.set(entry.peerId, entry);
    this.byAnnounce.append(entry);
    this.tally.peers++;
  }

  remove(entry: PeerEntry): void {
    (entry.seeder ? this.seeders : this.leechers).remove(entry);
    this.byId.delete(entry.peerId);
    this.byAnnounce.remove(entry);
    this.tally.peers--;
  }

  /**
   * A re-announce from the entry's own address: the same entry, renewed in place and moved to the
   * back of the order, into the other role's list if its role changed. Its id, address and compact
   * form stay as they were (samples handed out earlier may still hold the entry).
   */
  renew(entry: PeerEntry, seeder: boolean, expiresAt: number, key: string | undefined): void {
    if (entry.seeder !== seeder) {
      (entry.seeder ? this.seeders : this.leechers).remove(entry);
      entry.seeder = seeder;
      (seeder ? this.seeders : this.leechers).add(entry);
    }
    entry.expiresAt = expiresAt;
    entry.key = key;
    this.byAnnounce.touch(entry);
  }

  /** The least recently heard peer goes (to make room for another under the store's peer cap). */
  removeOldest(): void {
    const oldest = this.byAnnounce.oldest;
    if (oldest) this.remove(oldest);
  }

  /** The swarm is being dropped whole: its peers no longer count. */
  discard(): void {
    this.tally.peers -= this.byId.size;
  }

  /** Drops peers whose time is up; stops at the first live one since the chain is ordered by last announce. */
  expire(now: number): void {
    let entry = this.byAnnounce.oldest;
    while (entry !== null && entry.expiresAt <= now) {
      const next = entry.newer;
      this.remove(entry);
      entry = next;
    }
  }

  get size(): number {
    return this.byId.size;
  }
}
