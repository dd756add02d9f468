// The swarms of the embedded store and their peers. A swarm is a small object (at most `maxSwarms`
// of them); its peers are records by handle (peer-records.ts), found by (swarm, peer id) in one
// IdIndex, chained in the order they were last heard from (so expired ones sit at the front), and
// listed by role with their compact forms (memory-peer-list.ts), so a random sample needs no pass
// over the swarm and a removal is a swap with the last.
import type { IdIndex } from "./id-index.ts";
import { PeerList } from "./memory-peer-list.ts";
import { NONE, type PeerKey, PeerRecords, sameKey } from "./peer-records.ts";

export class Swarm {
  /** Neighbours in the store's order of last activity (memory.ts keeps the list). */
  older: Swarm | null = null;
  newer: Swarm | null = null;
  readonly seeders = new PeerList();
  readonly leechers = new PeerList();
  /** The peers by last announce: handles, NONE when empty. */
  oldest = NONE;
  newest = NONE;
  size = 0;
  /** When the most recently announced peer expires: after that the whole swarm is gone. */
  expiresAt = 0;
  /** Completed downloads (kept with the store's history of them, which outlives the swarm). */
  downloaded = 0;

  /** `infoHash`: its hex when the swarm was made from hex, else null until someone asks (memory.ts). */
  constructor(
    readonly handle: number,
    public infoHash: string | null,
  ) {}
}

/** The peers of all swarms: records, the index by (swarm, peer id), and the per-swarm order and lists. */
export class SwarmPeers {
  readonly records = new PeerRecords();

  /** `ids`: peer ids scoped by their swarm's handle. */
  constructor(readonly ids: IdIndex) {}

  /** Peers held over all swarms. */
  get count(): number {
    return this.ids.size;
  }

  /**
   * Whether an announce from `ip`/`port` showing `key` may change peer `h`: it comes from the peer's
   * address, or shows its key. Peer ids are public (every handshake and non-compact reply carries
   * them), so the id alone proves nothing.
   */
  mayChange(h: number, ip: string, port: number, key: PeerKey): boolean {
    const r = this.records;
    return (r.ips[h] === ip && r.port[h] === port) || sameKey(r.keys[h], key);
  }

  /**
   * A new peer in `swarm`, filed under the peer key the index loaded last (which it did not find),
   * at the newest end of the order. `address`: its 4 or 16 address bytes.
   */
  add(swarm: Swarm, seeder: boolean, expiresAt: number, ip: string, address: Uint8Array, port: number, key: PeerKey): number {
    const r = this.records;
    const h = r.allocate();
    r.seeder[h] = seeder ? 1 : 0;
    r.expiresAt[h] = expiresAt;
    r.ips[h] = ip;
    r.port[h] = port;
    r.keys[h] = key;
    (seeder ? swarm.seeders : swarm.leechers).add(r, h, address, port);
    this.ids.insert(h);
    this.append(swarm, h);
    swarm.size++;
    return h;
  }

  remove(swarm: Swarm, h: number): void {
    const r = this.records;
    (r.seeder[h] === 1 ? swarm.seeders : swarm.leechers).removeAt(r, r.pos[h]!);
    this.unlink(swarm, h);
    this.ids.remove(h);
    r.release(h);
    swarm.size--;
  }

  /**
   * A re-announce from the peer's own address: the same record, renewed in place and moved to the
   * newest end of the order, into the other role's list if its role changed.
   */
  renew(swarm: Swarm, h: number, seeder: boolean, expiresAt: number, key: PeerKey): void {
    const r = this.records;
    if ((r.seeder[h] === 1) !== seeder) {
      if (seeder) swarm.seeders.takeFrom(r, swarm.leechers, r.pos[h]!);
      else swarm.leechers.takeFrom(r, swarm.seeders, r.pos[h]!);
      r.seeder[h] = seeder ? 1 : 0;
    }
    r.expiresAt[h] = expiresAt;
    r.keys[h] = key;
    if (swarm.newest !== h) {
      this.unlink(swarm, h);
      this.append(swarm, h);
    }
  }

  /** The least recently heard peer goes (to make room for another under the store's peer cap). */
  removeOldest(swarm: Swarm): void {
    if (swarm.oldest !== NONE) this.remove(swarm, swarm.oldest);
  }

  /** Drops peers whose time is up; stops at the first live one since the chain is ordered by last announce. */
  expire(swarm: Swarm, now: number): void {
    const expiresAt = this.records.expiresAt;
    while (swarm.oldest !== NONE && expiresAt[swarm.oldest]! <= now) this.remove(swarm, swarm.oldest);
  }

  /** The swarm is being dropped whole: its peers are freed. */
  discard(swarm: Swarm): void {
    const r = this.records;
    for (let h = swarm.oldest; h !== NONE; ) {
      const next = r.newer[h]!;
      this.ids.remove(h);
      r.release(h);
      h = next;
    }
    swarm.oldest = swarm.newest = NONE;
    swarm.seeders.clear();
    swarm.leechers.clear();
    swarm.size = 0;
  }

  private append(swarm: Swarm, h: number): void {
    const r = this.records;
    r.older[h] = swarm.newest;
    r.newer[h] = NONE;
    if (swarm.newest !== NONE) r.newer[swarm.newest] = h;
    else swarm.oldest = h;
    swarm.newest = h;
  }

  private unlink(swarm: Swarm, h: number): void {
    const r = this.records;
    const older = r.older[h]!;
    const newer = r.newer[h]!;
    if (older !== NONE) r.newer[older] = newer;
    else swarm.oldest = newer;
    if (newer !== NONE) r.older[newer] = older;
    else swarm.newest = older;
  }
}
