// The embedded store's swarms: by info hash (an IdIndex of swarm handles, so a lookup needs no key
// string) and by last activity (an announce moves its swarm to the newest end, so the sweep of
// abandoned swarms and eviction take the oldest first without a scan). A dropped swarm's handle is
// reused, and its peers leave the peer index with it, so a later swarm under that handle starts empty.
import { IdIndex } from "./id-index.ts";
import { Swarm, type SwarmPeers } from "./memory-swarm.ts";
import { RecencyList } from "./recency-list.ts";

export class SwarmTable {
  /** Swarm handles by info hash: load a key (loadHex, loadBytes) then find() or add(). */
  readonly ids = new IdIndex();
  readonly byActivity = new RecencyList<Swarm>();
  private readonly byHandle: Array<Swarm | null> = [];
  private readonly free: number[] = [];

  constructor(private readonly peers: SwarmPeers) {}

  get size(): number {
    return this.ids.size;
  }

  /** The swarm under the key loaded last, or null. */
  found(): Swarm | null {
    const handle = this.ids.find();
    return handle === -1 ? null : this.byHandle[handle]!;
  }

  /** A new swarm under the key loaded last (which found() did not find), the most recently active. */
  add(hex: string | null): Swarm {
    const handle = this.free.pop() ?? this.byHandle.length;
    const swarm = new Swarm(handle, hex);
    this.ids.insert(handle);
    this.byHandle[handle] = swarm;
    this.byActivity.append(swarm);
    return swarm;
  }

  byHex(hex: string): Swarm | null {
    return this.ids.loadHex(hex, 0) ? this.found() : null;
  }

  /** The swarm's info hash as hex (made once, for swarms made from bytes). */
  hexOf(swarm: Swarm): string {
    swarm.infoHash ??= this.ids.hexOf(swarm.handle);
    return swarm.infoHash;
  }

  /** The swarm goes, with all its peers. */
  drop(swarm: Swarm): void {
    this.peers.discard(swarm);
    this.ids.remove(swarm.handle);
    this.byHandle[swarm.handle] = null;
    this.free.push(swarm.handle);
    this.byActivity.remove(swarm);
  }
}
