// What a torrent (or a magnet link's torrent) asks of the client that holds it, and what it is given to be
// made: the client's side of the contract, apart from the Client itself, so that a torrent's parts depend
// on these few members rather than on the whole process.
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";
import type { MseLimits } from "../net/mse/limits.ts";
import type { MagnetOptions, MagnetTorrent } from "../metadata/magnet-torrent.ts";
import type { Torrent, TorrentOptions } from "../torrent/torrent.ts";
import type { GlobalRateLimits } from "../torrent/tuning.ts";
import type { HashPool } from "../verify/hash-pool.ts";
import type { TorrentDht } from "./client-dht.ts";
import type { PoolBudget } from "./pool-budget.ts";

/** What a torrent asks of its client. */
export interface TorrentHost {
  readonly peerId: Uint8Array;
  /** The port peers reach us on (known once the client listens). */
  readonly port: number;
  readonly bind: string | null;
  readonly encryption: EncryptionPolicy;
  readonly mseLimits?: Partial<MseLimits>;
  /** Connections the torrent may still open under the limit across torrents. */
  room(): number;
  readonly pool: PoolBudget;
  /** The threads that check a downloading torrent's pieces in its piece pool. */
  readonly hashing: HashPool;
  /** The process's DHT, null without one (--no-dht, or before `enableDht`). */
  readonly dht: TorrentDht | null;
  /** A magnet link's metadata is in: the Torrent it describes takes the magnet's place (and its peers). */
  promote(magnet: MagnetTorrent, settings: TorrentSettings): Torrent;
  /** The limits shared by all torrents: each spends from these and from its own. */
  readonly limits: GlobalRateLimits;
}

/** A torrent as the client's caller describes it: the client adds itself as the host. */
export type TorrentSettings = Omit<TorrentOptions, "host">;

export type MagnetSettings = Omit<MagnetOptions, "host">;
