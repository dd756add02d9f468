// Our views (daemon/control.ts) in qBittorrent's Web API v2 shapes: field names, units and state names
// as qBittorrent 4.5 returns them (checked side by side with a real qbittorrent-nox by
// test/peer/qbt-conformance.test.ts). Where we know nothing, qBittorrent's own "unknown" value is used
// (-1 availability, 8640000 s ETA), never a made-up figure.
import type { FilePriority, FileView, TorrentDetail, TorrentSummary, TrackerView } from "../control.ts";

/** qBittorrent's ETA for "infinite". */
export const ETA_UNKNOWN = 8_640_000;

export interface Labels {
  category: string;
  tags: readonly string[];
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** qBittorrent's state names (4.x; 5.x renamed paused* to stopped*, see `stateName`). */
export function qbtState(t: TorrentSummary): string {
  const complete = t.progress >= 1;
  switch (t.state) {
    case "metadata":
      return "metaDL";
    case "checking":
      return complete ? "checkingUP" : "checkingDL";
    case "paused":
    case "stopped":
      return complete ? "pausedUP" : "pausedDL";
    case "error":
      return "error";
    case "seeding":
      return t.uploadRate > 0 ? "uploading" : "stalledUP";
    case "downloading":
      if (complete) return t.uploadRate > 0 ? "uploading" : "stalledUP";
      return t.downloadRate > 0 ? "downloading" : "stalledDL";
  }
}

/** One torrent as `torrents/info` lists it; `sync/maindata` keys torrents by hash and leaves it out (`withHash` false). */
export function torrentInfo(t: TorrentSummary, labels: Labels, now: number, withHash = true): Record<string, string | number | boolean> {
  const completed = Math.round(t.wantedSize * t.progress);
  // Written out rather than through formatMagnet: the hash is hex already, and a 10,000-torrent list builds 10,000 of these.
  const magnet = `magnet:?xt=urn:btih:${t.infoHash}&dn=${encodeURIComponent(t.name)}${t.currentTracker ? `&tr=${encodeURIComponent(t.currentTracker)}` : ""}`;
  const active = t.downloadRate > 0 || t.uploadRate > 0;
  return {
    added_on: seconds(t.addedAt),
    amount_left: Math.max(0, t.wantedSize - completed),
    auto_tmm: false,
    availability: -1,
    category: labels.category,
    completed,
    completion_on: t.completedAt ? seconds(t.completedAt) : -1,
    content_path: `${t.savePath.replace(/\/+$/, "")}/${t.name}`,
    dl_limit: t.limits?.downloadLimit ?? 0,
    dlspeed: t.downloadRate,
    download_path: "",
    downloaded: t.downloaded,
    downloaded_session: t.downloadedSession ?? 0,
    eta: t.eta ?? ETA_UNKNOWN,
    f_l_piece_prio: false,
    force_start: false,
    ...(withHash ? { hash: t.infoHash } : {}),
    infohash_v1: t.infoHash,
    infohash_v2: "",
    last_activity: active ? seconds(now) : seconds(t.completedAt ?? t.addedAt),
    magnet_uri: magnet,
    max_ratio: t.goals?.ratioLimit ?? -1,
    max_seeding_time: t.goals?.seedTimeLimit != null ? Math.round(t.goals.seedTimeLimit / 60) : -1,
    name: t.name,
    num_complete: t.swarmSeeds ?? 0,
    num_incomplete: t.swarmLeechers ?? 0,
    num_leechs: Math.max(0, t.peers - t.seeds),
    num_seeds: t.seeds,
    priority: 0,
    progress: t.progress,
    ratio: t.ratio,
    ratio_limit: t.goals?.ratioLimit ?? -2,
    save_path: t.savePath,
    seeding_time: t.seedingSeconds ?? 0,
    seeding_time_limit: t.goals?.seedTimeLimit != null ? Math.round(t.goals.seedTimeLimit / 60) : -2,
    seen_complete: t.completedAt ? seconds(t.completedAt) : 0,
    seq_dl: t.sequential ?? false,
    size: t.wantedSize,
    state: qbtState(t),
    super_seeding: false,
    tags: labels.tags.join(", "),
    time_active: t.activeSeconds ?? 0,
    total_size: t.size,
    tracker: t.currentTracker ?? "",
    trackers_count: t.trackerCount ?? 0,
    up_limit: t.limits?.uploadLimit ?? 0,
    uploaded: t.uploaded,
    uploaded_session: t.uploadedSession ?? 0,
    upspeed: t.uploadRate,
  };
}

/** `torrents/properties`. */
export function torrentProperties(t: TorrentDetail, now: number): Record<string, string | number | boolean> {
  const have = countBits(t.pieces, t.pieceCount);
  const elapsed = t.activeSeconds ?? Math.max(0, seconds(now - t.addedAt));
  return {
    addition_date: seconds(t.addedAt),
    comment: t.comment ?? "",
    completion_date: t.completedAt ? seconds(t.completedAt) : -1,
    created_by: t.createdBy ?? "",
    creation_date: t.creationDate ? seconds(t.creationDate) : -1,
    dl_limit: t.limits.downloadLimit ?? -1,
    dl_speed: t.downloadRate,
    dl_speed_avg: elapsed > 0 ? Math.round((t.downloadedSession ?? t.downloaded) / elapsed) : 0,
    download_path: "",
    eta: t.eta ?? ETA_UNKNOWN,
    hash: t.infoHash,
    infohash_v1: t.infoHash,
    infohash_v2: "",
    is_private: t.isPrivate ?? false,
    last_seen: t.completedAt ? seconds(t.completedAt) : -1,
    name: t.name,
    nb_connections: t.peers,
    nb_connections_limit: t.limits.maxPeers,
    peers: Math.max(0, t.peers - t.seeds),
    peers_total: t.swarmLeechers ?? Math.max(0, t.peers - t.seeds),
    piece_size: t.pieceLength,
    pieces_have: have,
    pieces_num: t.pieceCount,
    reannounce: nextAnnounceIn(t.trackers, now),
    save_path: t.savePath,
    seeding_time: t.seedingSeconds ?? 0,
    seeds: t.seeds,
    seeds_total: t.swarmSeeds ?? t.seeds,
    share_ratio: t.ratio,
    time_elapsed: elapsed,
    total_downloaded: t.downloaded,
    total_downloaded_session: t.downloadedSession ?? 0,
    total_size: t.size,
    total_uploaded: t.uploaded,
    total_uploaded_session: t.uploadedSession ?? 0,
    total_wasted: 0,
    up_limit: t.limits.uploadLimit ?? -1,
    up_speed: t.uploadRate,
    up_speed_avg: elapsed > 0 ? Math.round((t.uploadedSession ?? t.uploaded) / elapsed) : 0,
  };
}

function nextAnnounceIn(trackers: readonly TrackerView[], now: number): number {
  const due = trackers.map((t) => t.nextAnnounceAt).filter((at): at is number => at !== null);
  return due.length === 0 ? 0 : Math.max(0, seconds(Math.min(...due) - now));
}

/** qBittorrent's file priorities: 0 do not download, 1 normal, 6 high, 7 maximal. */
export function qbtPriority(priority: FilePriority): number {
  return priority === "skip" ? 0 : priority === "high" ? 6 : 1;
}

/** The other way; null for a value qBittorrent itself refuses. */
export function fromQbtPriority(value: number): FilePriority | null {
  if (value === 0) return "skip";
  if (value === 1) return "normal";
  if (value === 6 || value === 7) return "high";
  return null;
}

/** `torrents/files`. */
export function torrentFiles(t: TorrentDetail): Record<string, unknown>[] {
  return t.files.map((f: FileView) => {
    const offset = fileOffset(t.files, f.index);
    const first = Math.floor(offset / t.pieceLength);
    const last = f.length === 0 ? first : Math.floor((offset + f.length - 1) / t.pieceLength);
    return {
      availability: -1,
      index: f.index,
      ...(f.progress >= 1 ? { is_seed: true } : {}),
      name: t.files.length === 1 ? f.path : `${t.name}/${f.path}`,
      piece_range: [first, last],
      priority: qbtPriority(f.priority),
      progress: f.progress,
      size: f.length,
    };
  });
}

function fileOffset(files: readonly FileView[], index: number): number {
  let offset = 0;
  for (const f of files) {
    if (f.index === index) return offset;
    offset += f.length;
  }
  return offset;
}

// A tracker btpeer never contacts (wss://) is "Not working" with its message, as qBittorrent lists one its
// libtorrent cannot announce to.
const TRACKER_STATUS: Record<TrackerView["status"], number> = { "not-contacted": 1, working: 2, updating: 3, error: 4, unsupported: 4 };

/** `torrents/trackers`: the DHT, PeX and LSD rows first, as qBittorrent lists them, then the trackers. */
export function torrentTrackers(t: TorrentDetail): Record<string, string | number>[] {
  const pseudo = (url: string) => ({ msg: "", num_downloaded: 0, num_leeches: 0, num_peers: 0, num_seeds: 0, status: 0, tier: -1, url });
  return [
    pseudo("** [DHT] **"),
    pseudo("** [PeX] **"),
    pseudo("** [LSD] **"),
    ...t.trackers.map((tr) => ({
      msg: tr.lastError ?? "",
      num_downloaded: -1,
      num_leeches: -1,
      num_peers: tr.status === "working" ? tr.peers : -1,
      num_seeds: -1,
      status: TRACKER_STATUS[tr.status],
      tier: tr.tier,
      url: tr.url,
    })),
  ];
}

/** `torrents/pieceStates`: 2 downloaded, 0 not (pieces in flight are not in our views: never 1). */
export function pieceStates(t: TorrentDetail): number[] {
  const bits = Buffer.from(t.pieces, "base64");
  const out = new Array<number>(t.pieceCount);
  for (let i = 0; i < t.pieceCount; i++) out[i] = (bits[i >> 3]! >> (7 - (i & 7))) & 1 ? 2 : 0;
  return out;
}

function countBits(base64: string, count: number): number {
  const bits = Buffer.from(base64, "base64");
  let n = 0;
  for (let i = 0; i < count; i++) n += (bits[i >> 3]! >> (7 - (i & 7))) & 1;
  return n;
}
