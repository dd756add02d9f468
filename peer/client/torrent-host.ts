// What a torrent (or a magnet link's torrent) asks of the client that holds it: the client's side of the
// contract, apart from the Client itself, so that a torrent's parts depend on these few members rather
// than on the whole process. (A magnet link also asks for its Torrent once its metadata is in: MagnetHost.)
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";
import type { MseLimits } from "../net/mse/limits.ts";
import type { RateLimit } from "../net/rate-budget.ts";
import type { AnnounceScope } from "../tracker/announce-scope.ts";
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
  /** The limits shared by all torrents: each spends from these and from its own. */
  readonly limits: GlobalRateLimits;
  /** Which of a torrent's trackers are announced to, as the settings stand now (read at each announce). */
  announceScope(): AnnounceScope;
}

/** The client's limits every torrent draws from as well as its own. */
export interface GlobalRateLimits {
  readonly upload: RateLimit;
  readonly download: RateLimit;
}
