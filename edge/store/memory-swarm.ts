// One swarm of the embedded store: its peers in a Map ordered by when they were last heard from (so
// expired ones sit at the front), and in one array per role with an index, so a random sample needs
// no pass over the swarm and a removal is a swap with the last (memory-peer-list.ts).
import { PeerList } from "./memory-peer-list.ts";
import type { SwarmPeer } from "./swarm-store.ts";

export interface PeerEntry extends SwarmPeer {
  compact: Uint8Array;
  seeder: boolean;
  /** Position in its role's list. */
  slot: number;
  expiresAt: number;
  /** The `key` the peer announced with, if any: whoever shows it may move or remove this entry. Never sent to anyone. */
  key: string | undefined;
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
  constructor(private readonly tally: PeerTally) {}

  /** Insertion order = order of last announce; the oldest first. */
  readonly byId = new Map<string, PeerEntry>();
  readonly seeders = new PeerList();
  readonly leechers = new PeerList();
  /** When the most recently announced peer expires: after that the whole swarm is gone. */
  expiresAt = 0;

  add(entry: PeerEntry): void {
    (entry.seeder ? this.seeders : this.leechers).add(entry);
    this.byId.set(entry.peerId, entry);
    this.tally.peers++;
  }

  remove(entry: PeerEntry): void {
    (entry.seeder ? this.seeders : this.leechers).remove(entry);
    this.byId.delete(entry.peerId);
    this.tally.peers--;
  }

  /** The least recently heard peer goes (to make room for another under the store's peer cap). */
  removeOldest(): void {
    const oldest = this.byId.values().next().value;
    if (oldest) this.remove(oldest);
  }

  /** The swarm is being dropped whole: its peers no longer count. */
  discard(): void {
    this.tally.peers -= this.byId.size;
  }

  /** Drops peers whose time is up; stops at the first live one since the Map is ordered by last announce. */
  expire(now: number): void {
    for (const entry of this.byId.values()) {
      if (entry.expiresAt > now) break;
      this.remove(entry);
    }
  }

  get size(): number {
    return this.byId.size;
  }
}
