// The daemon's torrents as the API shows them (control.ts's views): plain values computed on demand from
// the running torrent, its peers and its trackers. Nothing here changes anything.
import { type Metainfo, pieceSize } from "../../shared/metainfo/types.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import { addressKey } from "../swarm/peer-directory.ts";
import type { FileView, PeerView, TorrentDetail, TorrentLimits, TorrentStateName, TorrentSummary, TrackerView } from "./control.ts";
import type { TorrentEntry } from "./torrent-entry.ts";
import type { MagnetEntry } from "./magnet-entry.ts";
import { goalsOf, prioritiesOf } from "./torrent-settings.ts";
import { piecePriorities } from "../pieces/wanted.ts";
import { initialStatuses, type TrackerStatus } from "../tracker/tracker-client.ts";

export function stateOf(entry: TorrentEntry): TorrentStateName {
  return entry.torrent?.state ?? (entry.dormant ? "seeding" : "error");
}

/** Bytes per second summed over the torrent's peers. */
export function ratesOf(entry: TorrentEntry): { down: number; up: number } {
  let down = 0;
  let up = 0;
  for (const peer of entry.torrent?.peers.values() ?? []) {
    down += peer.conn.down.rate();
    up += peer.conn.up.rate();
  }
  return { down: Math.round(down), up: Math.round(up) };
}

/** Bytes of wanted pieces verified, of bytes of wanted pieces (a dormant torrent seeds: it has them all). */
function wantedProgress(entry: TorrentEntry): { verified: number; wanted: number } {
  if (entry.dormant) return { verified: 1, wanted: 1 };
  const { meta, torrent } = entry;
  const have = torrent?.have;
  const wanted = piecePriorities(meta, prioritiesOf(meta, entry.options));
  let verified = 0;
  let wantedPieceBytes = 0;
  for (let i = 0; i < meta.pieceCount; i++) {
    if (wanted[i] === 0) continue;
    wantedPieceBytes += pieceSize(meta, i);
    if (have?.has(i)) verified += pieceSize(meta, i);
  }
  return { verified, wanted: wantedPieceBytes };
}

export function summaryOf(entry: TorrentEntry): TorrentSummary {
  const { facts, torrent } = entry;
  // Progress is about the wanted files: bytes of wanted pieces verified ÷ bytes of wanted pieces.
  const progress = wantedProgress(entry);
  const rates = ratesOf(entry);
  let seeds = 0;
  for (const peer of torrent?.peers.values() ?? []) if (peer.conn.peerPieces.isComplete()) seeds++;
  const { uploaded, downloaded } = entry.totals();
  const run = entry.runTotals();
  const left = progress.wanted - progress.verified;
  return {
    infoHash: entry.infoHash,
    name: facts.name,
    state: stateOf(entry),
    progress: progress.wanted === 0 ? 1 : progress.verified / progress.wanted,
    size: facts.length,
    wantedSize: facts.wantedSize,
    downloadRate: rates.down,
    uploadRate: rates.up,
    peers: torrent?.peers.size ?? 0,
    seeds,
    ratio: downloaded > 0 ? uploaded / downloaded : 0,
    eta: left === 0 || rates.down === 0 ? null : Math.round(left / rates.down),
    addedAt: entry.record.addedAt,
    savePath: entry.record.savePath,
    downloaded,
    uploaded,
    hashFailures: run.failedPieces,
    trackerErrors: entry.trackers()?.failures ?? 0,
    error: entry.error,
    downloadedSession: run.downloaded,
    uploadedSession: run.uploaded,
    trackerCount: facts.trackerCount,
    currentTracker: entry.trackers()?.list.find((t) => t.status === "working")?.url ?? null,
    sequential: entry.options.sequential ?? false,
    limits: limitsOf(entry),
    goals: goalsOf(entry.options),
  };
}

function limitsOf(entry: TorrentEntry): TorrentLimits {
  const torrent = entry.torrent;
  return {
    uploadLimit: torrent?.uploadLimit ?? entry.options.uploadLimit ?? null,
    downloadLimit: torrent?.tuned.rateLimits.download ?? entry.options.downloadLimit ?? null,
    maxPeers: torrent?.maxPeers ?? (entry.dormant ? entry.maxPeers : (entry.options.maxPeers ?? 0)),
  };
}

export function detailOf(entry: TorrentEntry): TorrentDetail {
  const { meta, torrent } = entry;
  return {
    ...summaryOf(entry),
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    pieces: Buffer.from(entry.pieces?.bytes ?? new Uint8Array(Math.ceil(meta.pieceCount / 8))).toString("base64"),
    files: filesOf(entry, meta),
    peerList: [...(torrent?.peers.values() ?? [])].map((p) => peerOf(p, meta.pieceCount)),
    trackers: trackersOf(entry, meta),
    sequential: entry.options.sequential ?? false,
    limits: limitsOf(entry),
    goals: goalsOf(entry.options),
    comment: meta.comment ?? null,
    createdBy: meta.createdBy ?? null,
    creationDate: meta.creationDate !== undefined ? meta.creationDate * 1000 : null,
    isPrivate: meta.private,
  };
}

/**
 * Every tracker the torrent names, whatever announces for it: what each did last when an announcer runs
 * (the torrent's, or the dormant scheduler's), else as before any announce. A dormant torrent that names no
 * tracker btpeer speaks (only wss://) has no announcer, and a torrent not started yet has none either.
 */
function trackersOf(entry: TorrentEntry, meta: Metainfo): TrackerView[] {
  const trackers = entry.trackers();
  return trackerViews(meta.announceList, trackers?.list ?? [], trackers?.nextAnnounceAt ?? null);
}

function filesOf(entry: TorrentEntry, meta: Metainfo): FileView[] {
  const have = entry.pieces;
  const priorities = prioritiesOf(meta, entry.options);
  return meta.files
    .map((f, index) => ({ f, index }))
    .filter(({ f }) => !f.padding)
    .map(({ f, index }): FileView => {
      let verified = 0;
      if (have && f.length > 0) {
        const first = Math.floor(f.offset / meta.pieceLength);
        const last = Math.floor((f.offset + f.length - 1) / meta.pieceLength);
        for (let p = first; p <= last; p++) {
          if (!have.has(p)) continue;
          const start = Math.max(f.offset, p * meta.pieceLength);
          const end = Math.min(f.offset + f.length, p * meta.pieceLength + pieceSize(meta, p));
          verified += end - start;
        }
      }
      return { index, path: f.path.join("/") || meta.name, length: f.length, progress: f.length === 0 ? 1 : verified / f.length, priority: priorities[index]! };
    });
}

function peerOf(peer: SwarmPeer, pieceCount: number): PeerView {
  const conn = peer.conn;
  let flags = "";
  if (conn.amInterested) flags += conn.peerChoking ? "d" : "D";
  if (conn.peerInterested) flags += conn.amChoking ? "u" : "U";
  if (!conn.outgoing) flags += "I";
  if (conn.encryption !== "none") flags += "E"; // as qBittorrent: an MSE handshake, whatever payload it selected
  return {
    address: addressKey(conn.address),
    client: conn.peerExtensions?.client ?? clientFromPeerId(conn.remotePeerId),
    downloadRate: Math.round(conn.down.rate()),
    uploadRate: Math.round(conn.up.rate()),
    progress: pieceCount === 0 ? 1 : conn.peerPieces.count() / pieceCount,
    flags,
  };
}

/** Azureus-style ids ("-LT2000-…") name the client and its version; anything else is unknown. */
function clientFromPeerId(id: Uint8Array | null): string {
  if (!id) return "";
  const text = new TextDecoder().decode(id.subarray(0, 8));
  const match = /^-([A-Za-z]{2})([0-9A-Za-z]{4})-$/.exec(text);
  return match ? `${match[1]} ${match[2]}` : "";
}

/** A magnet link before its metadata: its name from the link (or its info hash), nothing known of its size. */
export function magnetSummaryOf(entry: MagnetEntry): TorrentSummary {
  const state = entry.magnet?.state;
  return {
    infoHash: entry.infoHash,
    name: entry.link.name ?? entry.infoHash,
    state: state === "error" || entry.error !== null ? "error" : state === "stopped" ? "stopped" : "metadata",
    progress: 0,
    size: 0,
    wantedSize: 0,
    downloadRate: 0,
    uploadRate: 0,
    peers: entry.magnet?.peerCount ?? 0,
    seeds: 0,
    ratio: 0,
    eta: null,
    addedAt: entry.record.addedAt,
    savePath: entry.record.savePath,
    downloaded: 0,
    uploaded: 0,
    hashFailures: 0,
    trackerErrors: 0,
    error: entry.error,
    trackerCount: entry.link.trackers.length,
  };
}

/**
 * The trackers as configured (changed since the announcer's start too), each with what it did last, or as
 * before any announce (initialStatuses: not contacted, or unsupported).
 */
function trackerViews(tiers: readonly (readonly string[])[], statuses: readonly TrackerStatus[], nextAnnounceAt: number | null): TrackerView[] {
  const last = new Map(statuses.map((s) => [s.url, s]));
  return initialStatuses(tiers).map((fresh): TrackerView => {
    const s = last.get(fresh.url) ?? fresh;
    return { ...s, tier: fresh.tier, nextAnnounceAt: s.status === "working" || s.status === "error" ? nextAnnounceAt : null };
  });
}

export function magnetDetailOf(entry: MagnetEntry): TorrentDetail {
  return {
    ...magnetSummaryOf(entry),
    pieceCount: 0,
    pieceLength: 0,
    pieces: "",
    files: [],
    peerList: [],
    trackers: trackerViews(entry.tiers, entry.trackerStatus(), null),
    sequential: false,
    limits: { uploadLimit: null, downloadLimit: null, maxPeers: 0 },
    goals: { ratioLimit: null, seedTimeLimit: null },
  };
}
