// GET /metrics: the daemon in the Prometheus text format. Global figures and per-torrent ones are
// separate metric names (btpeer_* and btpeer_torrent_*), so summing a metric never counts twice.
// Per-torrent series are labelled info_hash and name; the renderer escapes label values (a torrent's
// name is whatever its creator chose: quotes, backslashes, newlines).
import { type Metric, type MetricType, renderMetrics, type Sample } from "../../../shared/prometheus-text.ts";
import { type DaemonControl, DaemonError, type DhtStatus, type TorrentDetail, type TorrentStateName } from "../control.ts";

const STATES: TorrentStateName[] = ["metadata", "checking", "downloading", "paused", "seeding", "stopped", "error"];

/** Per-torrent series: name, type, help, value. */
const TORRENT_METRICS: [string, MetricType, string, (t: TorrentDetail) => number][] = [
  ["btpeer_torrent_progress_ratio", "gauge", "Wanted bytes verified divided by wanted bytes, 0 to 1.", (t) => t.progress],
  ["btpeer_torrent_size_bytes", "gauge", "Total size of the torrent.", (t) => t.size],
  ["btpeer_torrent_wanted_bytes", "gauge", "Size of the files not skipped.", (t) => t.wantedSize],
  ["btpeer_torrent_downloaded_bytes_total", "counter", "Payload bytes downloaded over the torrent's life.", (t) => t.downloaded],
  ["btpeer_torrent_uploaded_bytes_total", "counter", "Payload bytes uploaded over the torrent's life.", (t) => t.uploaded],
  ["btpeer_torrent_download_rate_bytes", "gauge", "Download rate, bytes per second.", (t) => t.downloadRate],
  ["btpeer_torrent_upload_rate_bytes", "gauge", "Upload rate, bytes per second.", (t) => t.uploadRate],
  ["btpeer_torrent_peers", "gauge", "Connected peers.", (t) => t.peers],
  ["btpeer_torrent_seeds", "gauge", "Connected peers that have every piece.", (t) => t.seeds],
  ["btpeer_torrent_pieces", "gauge", "Pieces of the torrent.", (t) => t.pieceCount],
  ["btpeer_torrent_pieces_verified", "gauge", "Pieces verified and on disk.", (t) => verifiedPieces(t.pieces)],
  ["btpeer_torrent_hash_failures_total", "counter", "Pieces that failed their hash check, this run.", (t) => t.hashFailures],
  ["btpeer_torrent_tracker_errors_total", "counter", "Tracker announces that failed, this run.", (t) => t.trackerErrors],
];

export function daemonMetrics(control: DaemonControl, eventStreams: number): string {
  const stats = control.stats();
  // The detail carries the piece counts; a torrent removed between list() and get() is skipped.
  const torrents: TorrentDetail[] = [];
  for (const summary of control.list()) {
    try {
      torrents.push(control.get(summary.infoHash));
    } catch (error) {
      if (!(error instanceof DaemonError)) throw error;
    }
  }
  const metric = (name: string, type: MetricType, help: string, samples: Sample[]): Metric => ({ name, help, type, samples });
  const one = (value: number | null): Sample[] => [{ value: value ?? 0 }];
  const byState = STATES.map((state) => ({ labels: { state }, value: stats.byState[state] ?? 0 }));
  return renderMetrics([
    metric("btpeer_torrents", "gauge", "Torrents by state.", byState),
    metric("btpeer_downloaded_bytes_total", "counter", "Payload bytes downloaded by all torrents since the daemon started.", one(stats.downloaded)),
    metric("btpeer_uploaded_bytes_total", "counter", "Payload bytes uploaded by all torrents since the daemon started.", one(stats.uploaded)),
    metric("btpeer_download_rate_bytes", "gauge", "Download rate of all torrents, bytes per second.", one(stats.downloadRate)),
    metric("btpeer_upload_rate_bytes", "gauge", "Upload rate of all torrents, bytes per second.", one(stats.uploadRate)),
    metric("btpeer_peers", "gauge", "Connected peers across all torrents.", one(stats.peers)),
    metric("btpeer_download_limit_bytes", "gauge", "Global download limit, bytes per second (0: none).", one(stats.limits.downloadLimit)),
    metric("btpeer_upload_limit_bytes", "gauge", "Global upload limit, bytes per second (0: none).", one(stats.limits.uploadLimit)),
    metric("btpeer_max_peers", "gauge", "Global limit of peer connections.", one(stats.limits.maxPeers)),
    metric("btpeer_start_time_seconds", "gauge", "When the daemon started, Unix time.", one(stats.startedAt / 1000)),
    metric("btpeer_api_event_streams", "gauge", "Event streams (GET /api/v1/events) open now.", one(eventStreams)),
    ...dhtMetrics(stats.dht ?? null, metric),
    ...TORRENT_METRICS.map(([name, type, help, pick]) =>
      metric(
        name,
        type,
        help,
        torrents.map((t) => ({ labels: { info_hash: t.infoHash, name: t.name }, value: pick(t) })),
      ),
    ),
  ]);
}

/** The DHT's series; none at all when it is off (--no-dht), so a dashboard can tell off from empty. */
function dhtMetrics(dht: DhtStatus | null, metric: (name: string, type: MetricType, help: string, samples: Sample[]) => Metric): Metric[] {
  if (!dht) return [];
  const families = (v: { ipv4: number; ipv6: number }): Sample[] => [
    { labels: { family: "ipv4" }, value: v.ipv4 },
    { labels: { family: "ipv6" }, value: v.ipv6 },
  ];
  return [
    metric("btpeer_dht_joined", "gauge", "1 once the DHT knows nodes, 0 while joining or alone.", [{ value: dht.state === "joined" ? 1 : 0 }]),
    metric("btpeer_dht_nodes", "gauge", "Nodes in the DHT routing table, by address family.", families(dht.nodes)),
    metric("btpeer_dht_buckets", "gauge", "Buckets of the DHT routing table, by address family.", families(dht.buckets)),
    metric("btpeer_dht_lookups_total", "counter", "DHT lookups (with announces) of torrents finished since the start.", [{ value: dht.lookups }]),
    metric("btpeer_dht_peers_found_total", "counter", "Peers DHT lookups found since the start.", [{ value: dht.peersFound }]),
    metric("btpeer_dht_torrents", "gauge", "Torrents in the DHT lookup schedule.", [{ value: dht.torrents }]),
    metric("btpeer_dht_stored_peers", "gauge", "Peers other nodes announced to our DHT node.", [{ value: dht.storedPeers }]),
    metric("btpeer_dht_stored_torrents", "gauge", "Torrents those announced peers are for.", [{ value: dht.storedTorrents }]),
  ];
}

/** Set bits of a base64 bitfield. */
function verifiedPieces(base64: string): number {
  let count = 0;
  for (let byte of Buffer.from(base64, "base64")) {
    for (; byte !== 0; byte &= byte - 1) count++;
  }
  return count;
}
