// What a torrent is made of when a client adds it.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import type { PieceWriter } from "../pieces/downloader.ts";
import type { TorrentEvent } from "./events.ts";
import type { BlockFiles, BlockReader } from "../upload/uploader.ts";
import type { FilePriority } from "../pieces/wanted.ts";
import type { SeedingGoals } from "./seeding-goals.ts";
import type { PeerDirectory } from "../swarm/peer-directory.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { AnnounceCarry } from "../tracker/tracker-announcer.ts";

export interface PieceStore extends PieceWriter, BlockReader, BlockFiles {
  /** Files skipped from now on (per file index); un-skipped ones are created (TorrentStorage.setSkipped). */
  setSkipped(skipped: readonly boolean[], have: (index: number) => boolean): void;
  close(): void;
}

/** What came before this run, for seeding goals (the daemon keeps it across restarts). */
export interface TorrentHistory {
  uploaded: number;
  downloaded: number;
  seedingSeconds: number;
}

export interface TorrentOptions {
  host: TorrentHost;
  meta: Metainfo;
  storage: PieceStore;
  /** Pieces already verified on disk (trusted without hashing). */
  have: Bitfield;
  /** The folder the torrent's files are in (what checks hash). */
  dir: string;
  /**
   * Pieces to hash before trusting them: the torrent starts in `checking` and sets or clears those pieces of
   * `have` from what it finds. Absent: `have` is trusted as it is.
   */
  check?: (index: number) => boolean;
  /** After the first check: fail with `incomplete-data` and this message when pieces are missing (`seed`). */
  mustBeComplete?: (missing: number) => string;
  /** Stay paused after the first check, until resume(). */
  paused?: boolean;
  /**
   * No tracker answering and no peer known is not fatal: the torrent waits for peers to come (the daemon's
   * torrents, which live on). Without it, `download` fails at once, with exit code 6.
   */
  waitForPeers?: boolean;
  /** Before the first `started` announce (not the ones after a resume): how a daemon spreads thousands. */
  announceDelayMs?: number;
  /** Made again from dormant: its announcing goes on from here (no `started`), at its first start only. */
  announce?: AnnounceCarry;
  /** Pool bytes this torrent asks of the client's budget. */
  poolBytes: number;
  /** --max-peers: this torrent's peer slots. */
  maxPeers: number;
  /** Peers to dial besides what trackers tell us. */
  peers: PeerAddress[];
  /** Stay on as a seeder once complete. */
  seed: boolean;
  /** Upload limit for the whole torrent in bytes per second (undefined: none). */
  uploadLimit?: number;
  /** Download limit for the whole torrent in bytes per second (undefined: none). */
  downloadLimit?: number;
  /** One per file (meta.files order); default: every file `normal`. Storage must have been opened with the same skips. */
  filePriorities?: readonly FilePriority[];
  /** Fetch pieces in order (streaming). */
  sequential?: boolean;
  /** When to stop seeding (default: never). */
  goals?: SeedingGoals;
  history?: TorrentHistory;
  onEvent: (event: TorrentEvent) => void;
  /** A magnet link's metadata phase hands over what it found (metadata/magnet-torrent.ts). */
  handover?: Handover;
}

/** What a magnet link's metadata phase gives the torrent its metadata made: its open peers, the addresses it knows, its bans. */
export interface Handover {
  /** Connections of unknown piece count: the torrent binds them again to its own (PeerConnection.rebind). */
  peers: SwarmPeer[];
  directory: PeerDirectory;
  bannedPeerIds: Set<string>;
  /** Trackers its announces went to: owed a `stopped` by the torrent, at once if its list lacks them. */
  trackersTold: readonly string[];
}

/** A torrent as the client's caller describes it: the client adds itself as the host. */
export type TorrentSettings = Omit<TorrentOptions, "host">;
