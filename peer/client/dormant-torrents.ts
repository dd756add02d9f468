// The client's dormant torrents (peer/torrent/dormancy.ts): each let go keeps only what makes it again (a
// DormantTorrent, the daemon's record), its trackers' announcing (DormantAnnounces) and, public, its DHT
// announce (DormantDht). Waking one hands both back to the torrent made again.
import type { PeerAddress } from "../../shared/compact.ts";
import type { DormantCarry } from "../torrent/dormancy.ts";
import type { Torrent } from "../torrent/torrent.ts";
import type { AnnounceCarry } from "../tracker/tracker-announcer.ts";
import { type AnnounceEvent, DormantAnnounces } from "./dormant-announces.ts";
import { DormantDht, type DormantDhtHost } from "./dormant-dht.ts";

/** A torrent let go while it was dormant (Torrent.dormant): what makes it again when it is asked for. */
export interface DormantTorrent {
  /** Its info hash in hex, as the client keys it (kept as the key: thousands may be dormant). */
  readonly infoHash: string;
  /**
   * Makes the torrent again (registered with addTorrent) and starts it; null if it cannot be made. It goes
   * on with `announce` (its trackers' announcing while dormant) and dials `peers` (a tracker's leechers).
   */
  wake(woken: { announce: AnnounceCarry | null; peers: PeerAddress[] }): Torrent | null;
  /** The client announced for it while dormant: the outcome, as its running torrent would have said it. */
  announced(event: AnnounceEvent): void;
}

export class DormantTorrents {
  /** By hex info hash. */
  private readonly torrents = new Map<string, DormantTorrent>();
  private readonly announces = new DormantAnnounces({
    wake: (key, peers) => this.wake(key, peers),
    announced: (key, event) => this.torrents.get(key)?.announced(event),
  });
  private readonly dht: DormantDht;

  constructor(host: DormantDhtHost) {
    this.dht = new DormantDht(host);
  }

  has(key: string): boolean {
    return this.torrents.has(key);
  }

  keep(infoHash: Uint8Array, dormant: DormantTorrent, carry: DormantCarry): void {
    const key = dormant.infoHash;
    this.torrents.set(key, dormant);
    if (carry.announce) this.announces.add(key, carry.announce);
    if (carry.dht) this.dht.add(key, infoHash);
  }

  /**
   * Makes a dormant torrent again (dialling `peers`), its announcing and DHT registration its own; null if
   * `key` is not dormant, or it could not be made.
   */
  wake(key: string, peers: PeerAddress[] = []): Torrent | null {
    const dormant = this.torrents.get(key);
    if (!dormant) return null;
    this.torrents.delete(key);
    const onDht = this.dht.take(key);
    const torrent = dormant.wake({ announce: this.announces.take(key), peers });
    if (onDht && torrent) torrent.holdDht();
    else if (onDht) this.dht.drop(key);
    return torrent;
  }

  /** A dormant torrent's trackers as Torrent.trackers() shows them; null if it is not dormant or has none. */
  trackers(key: string): ReturnType<Torrent["trackers"]> | null {
    return this.announces.trackers(key);
  }

  /** Removed (false if it is not dormant): off the DHT, and `stopped` to its trackers. */
  async remove(key: string): Promise<boolean> {
    if (!this.torrents.delete(key)) return false;
    this.dht.drop(key);
    const announce = this.announces.take(key);
    if (announce) await this.announces.stopped(announce);
    return true;
  }

  /** The client stops: every dormant torrent's `stopped` (its DHT closes with the client). */
  async stopAll(): Promise<void> {
    const carries = [...this.torrents.keys()].map((key) => this.announces.take(key));
    this.torrents.clear();
    await Promise.all(carries.map((announce) => announce && this.announces.stopped(announce)));
  }

  /** The client's DHT came on: every dormant public torrent is announced on it. */
  dhtEnabled(): void {
    this.dht.enabled();
  }

  tick(now: number): void {
    this.announces.tick(now);
  }
}
