// What the daemon offers to whatever drives it: the HTTP API (daemon/api/), the web UI, `btpeer remote`
// through the API, the watch folder. One interface so that the service and its front ends can change apart.
// Views are plain JSON-ready values; rates are bytes per second, sizes bytes, times ms since the epoch
// unless a field says seconds.
import type { DaemonSettings } from "./daemon-settings.ts";
import type { TorrentEvent } from "../torrent/events.ts";

export type TorrentStateName = "metadata" | "checking" | "downloading" | "paused" | "seeding" | "stopped" | "error";

/** A file's priority: `skip` files are not downloaded (pieces shared with a wanted file still are) and not created. */
export type FilePriority = "skip" | "normal" | "high";

export interface TorrentSummary {
  /** 40 lowercase hex digits. */
  infoHash: string;
  name: string;
  state: TorrentStateName;
  /** Wanted bytes verified ÷ wanted bytes, 0..1. */
  progress: number;
  /** Total bytes of the torrent. */
  size: number;
  /** Bytes of the files not skipped. */
  wantedSize: number;
  downloadRate: number;
  uploadRate: number;
  /** Connected peers, and how many of them are seeds. */
  peers: number;
  seeds: number;
  /** Uploaded ÷ downloaded over the torrent's life (totals survive restarts); 0 when nothing was downloaded. */
  ratio: number;
  /** Seconds to completion at the current rate, null when unknown or complete. */
  eta: number | null;
  addedAt: number;
  savePath: string;
  /** Totals over the torrent's life. */
  downloaded: number;
  uploaded: number;
  /** Pieces that failed their hash check, and tracker announces that failed, over this run. */
  hashFailures: number;
  trackerErrors: number;
  /** The error that put the torrent in `error`, else null. */
  error: string | null;
  // Extras that front ends (the qBittorrent API, the web UI) show when the service fills them; cheap to
  // compute, so a list of 10,000 torrents needs no per-torrent detail call.
  /** When every wanted piece was verified, or null. */
  completedAt?: number | null;
  /** Seconds spent seeding, and active (downloading or seeding), over the torrent's life. */
  seedingSeconds?: number;
  activeSeconds?: number;
  /** Totals over this run of the daemon. */
  downloadedSession?: number;
  uploadedSession?: number;
  trackerCount?: number;
  /** The tracker whose announce last succeeded, or null. */
  currentTracker?: string | null;
  /** Seeds and leechers in the swarm by the last tracker reply (complete / incomplete). */
  swarmSeeds?: number;
  swarmLeechers?: number;
  sequential?: boolean;
  limits?: TorrentLimits;
  goals?: SeedingGoals;
}

export interface FileView {
  index: number;
  /** Path inside the torrent, "/"-separated. */
  path: string;
  length: number;
  /** Verified bytes of this file ÷ its length, 0..1. */
  progress: number;
  priority: FilePriority;
}

export interface PeerView {
  /** "ip:port" or "[v6]:port". */
  address: string;
  /** Client name from the peer id or extension handshake ("" when unknown). */
  client: string;
  downloadRate: number;
  uploadRate: number;
  /** The peer's pieces ÷ all pieces, 0..1. */
  progress: number;
  /** qBittorrent-style letters: D/d interested and unchoked/choked downloading, U/u uploading, I incoming, E encrypted, X PEX, H DHT. */
  flags: string;
}

export interface TrackerView {
  url: string;
  tier: number;
  /** `unsupported`: btpeer never contacts it (a wss:// tracker); `lastError` says so. */
  status: "not-contacted" | "updating" | "working" | "error" | "unsupported";
  lastError: string | null;
  /** Peers in its last reply. */
  peers: number;
  /** When the next announce is due, or null. */
  nextAnnounceAt: number | null;
}

export interface TorrentLimits {
  /** Bytes per second, null: no limit. */
  uploadLimit: number | null;
  downloadLimit: number | null;
  /** Peer connections of this torrent at most. */
  maxPeers: number;
}

export interface SeedingGoals {
  /** Stop seeding once uploaded ÷ downloaded reaches this (null: no goal). */
  ratioLimit: number | null;
  /** Stop seeding after this many seconds of seeding (null: no goal). */
  seedTimeLimit: number | null;
}

export interface TorrentDetail extends TorrentSummary {
  pieceCount: number;
  pieceLength: number;
  /** The verified-piece bitfield, base64 (BEP 3 bit order). */
  pieces: string;
  files: FileView[];
  peerList: PeerView[];
  trackers: TrackerView[];
  sequential: boolean;
  limits: TorrentLimits;
  goals: SeedingGoals;
  /** From the metainfo, when it has them. */
  comment?: string | null;
  createdBy?: string | null;
  /** ms since the epoch. */
  creationDate?: number | null;
  isPrivate?: boolean;
}

export interface AddTorrentRequest {
  /** The .torrent's bytes, or a magnet link (magnets come with issue 13; until then a clear 400). */
  source: { torrent: Uint8Array } | { magnet: string };
  /** Default: the daemon's --download-dir. */
  savePath?: string;
  paused?: boolean;
  /** Per file index; files not named are `normal`. */
  filePriorities?: Record<number, FilePriority>;
  sequential?: boolean;
  limits?: Partial<TorrentLimits>;
  goals?: Partial<SeedingGoals>;
}

export interface TorrentPatch {
  limits?: Partial<TorrentLimits>;
  filePriorities?: Record<number, FilePriority>;
  sequential?: boolean;
  goals?: Partial<SeedingGoals>;
}

/** A change to a torrent's trackers (BEP 12 tiers); applied at once, kept across restarts. */
export type TrackerEdit =
  /** Trackers to add after the torrent's, each a tier of its own; those it has already are passed by. */
  | { add: string[] }
  /** One tracker's URL changed, in its place. */
  | { replace: string; by: string }
  /** Trackers to remove. */
  | { remove: string[] };

export interface GlobalLimits {
  uploadLimit: number | null;
  downloadLimit: number | null;
  /** Peer connections across all torrents at most. */
  maxPeers: number;
}

export interface DaemonStats {
  torrents: number;
  byState: Partial<Record<TorrentStateName, number>>;
  downloadRate: number;
  uploadRate: number;
  /** Totals over this run. */
  downloaded: number;
  uploaded: number;
  peers: number;
  /** The peer port. */
  port: number;
  startedAt: number;
  limits: GlobalLimits;
  /** The DHT (BEP 5), null when it is off (--no-dht) or could not start. */
  dht?: DhtStatus | null;
}

/** What GET /api/v1/stats and /metrics show of the DHT. */
export interface DhtStatus {
  /** joining: bootstrap running; joined: it knows nodes; alone: no node answered (one may still come). */
  state: "joining" | "joined" | "alone";
  /** The node's UDP port. */
  port: number;
  nodes: { ipv4: number; ipv6: number };
  buckets: { ipv4: number; ipv6: number };
  /** Lookups (with announces) finished since the start, and the peers they found. */
  lookups: number;
  peersFound: number;
  /** Torrents in the lookup schedule. */
  torrents: number;
  /** Peers other nodes announced to us, and the torrents they are for. */
  storedPeers: number;
  storedTorrents: number;
}

/** A torrent's event as `--json` prints it, tagged with its torrent. */
export type DaemonEvent = TorrentEvent & { infoHash: string };

export type DaemonErrorCode =
  /** No torrent has this info hash. */
  | "not-found"
  /** Adding a torrent already present. */
  | "duplicate"
  /** The .torrent or magnet could not be read. */
  | "bad-torrent"
  /** A request that names something impossible (a file index out of range, a negative limit, ...). */
  | "bad-request"
  /** A tracker to replace or remove that the torrent does not have. */
  | "no-such-tracker"
  /** A tracker URL to change to that the torrent has already. */
  | "tracker-exists";

export class DaemonError extends Error {
  constructor(
    readonly code: DaemonErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface DaemonControl {
  /** Adds and starts (or keeps paused) a torrent; resolves to its info hash. Throws DaemonError. */
  add(request: AddTorrentRequest): Promise<string>;
  list(): TorrentSummary[];
  /** Throws DaemonError("not-found"). */
  get(infoHash: string): TorrentDetail;
  pause(infoHash: string): Promise<void>;
  resume(infoHash: string): Promise<void>;
  /** Checks every piece on disk again (state `checking`), then carries on as before. */
  recheck(infoHash: string): Promise<void>;
  reannounce(infoHash: string): Promise<void>;
  /** Stops (announcing `stopped`), forgets the torrent, and deletes its files when asked. */
  remove(infoHash: string, deleteData: boolean): Promise<void>;
  patch(infoHash: string, patch: TorrentPatch): Promise<TorrentDetail>;
  /** Changes its trackers (a magnet link's too, while it fetches its metadata); throws DaemonError. */
  editTrackers(infoHash: string, edit: TrackerEdit): Promise<TorrentDetail>;
  stats(): DaemonStats;
  setLimits(limits: Partial<GlobalLimits>): GlobalLimits;
  /** The settings kept across restarts (daemon-settings.ts). */
  settings(): DaemonSettings;
  /** Changes and stores them; each torrent goes by them from its next announce. */
  setSettings(settings: Partial<DaemonSettings>): DaemonSettings;
  /** Every torrent's events as they happen; returns the unsubscribe function. */
  subscribe(listener: (event: DaemonEvent) => void): () => void;
}
