// Dormant public torrents on the DHT (BEP 5): a torrent let go (peer/torrent/dormancy.ts) keeps its place
// in the announcer's schedule, our port announced for it every ~15 minutes as for a working one, without a
// Torrent. The peers its lookups find are not kept: without the torrent there is nobody to dial them, and
// it cannot tell a seeder from a leecher; a peer that wants it finds us and connects, which wakes it.
// One entry serves every dormant torrent, so thousands cost the announcer's record of each and no more.
// A private torrent (BEP 27) is never here.
import { fromHex } from "../../shared/bytes.ts";
import type { DhtTorrentEntry } from "../dht/announcer.ts";
import type { TorrentDht } from "./client-dht.ts";

export interface DormantDhtHost {
  /** The process's DHT, null without one (yet). */
  readonly dht: TorrentDht | null;
  /** The port peers reach us on. */
  readonly port: number;
}

export class DormantDht {
  /** Hex info hashes of the public dormant torrents (registered whenever the client has a DHT). */
  private readonly keys = new Set<string>();
  private entry: DhtTorrentEntry | null = null;

  constructor(private readonly host: DormantDhtHost) {}

  get size(): number {
    return this.keys.size;
  }

  /**
   * A public torrent gone dormant: announced from now on. One that was working is in the announcer
   * already: it only gets the dormant entry, and keeps its turn.
   */
  add(key: string, infoHash: Uint8Array): void {
    this.keys.add(key);
    this.host.dht?.add(infoHash, this.dormantEntry());
  }

  /**
   * The torrent is made again: true if it was on the DHT, its registration now the torrent's own
   * (Torrent.holdDht), or to end with drop() if it could not be made.
   */
  take(key: string): boolean {
    return this.keys.delete(key);
  }

  /** A torrent taken but not made again, or a dormant one removed: off the DHT. */
  drop(key: string): void {
    this.keys.delete(key);
    this.host.dht?.remove(fromHex(key)!);
  }

  /** The client's DHT came on: every dormant public torrent is announced on it. */
  enabled(): void {
    for (const key of this.keys) this.host.dht?.add(fromHex(key)!, this.dormantEntry());
  }

  private dormantEntry(): DhtTorrentEntry {
    this.entry ??= { port: this.host.port, private: false, onPeers: ignore };
    return this.entry;
  }
}

function ignore(): void {}
