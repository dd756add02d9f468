// The daemon's totals over all its torrents (GET /api/v1/daemon, /metrics): counts by state, rates,
// what moved in this run and the peers connected, summed from the entries and the magnets still fetching.
import type { DaemonStats, TorrentStateName } from "./control.ts";
import type { MagnetEntry } from "./magnet-entry.ts";
import type { TorrentEntry } from "./torrent-entry.ts";
import { magnetSummaryOf, ratesOf, stateOf } from "./views.ts";

export type TorrentTotals = Pick<DaemonStats, "torrents" | "byState" | "downloadRate" | "uploadRate" | "downloaded" | "uploaded" | "peers">;

export function torrentTotals(entries: Iterable<TorrentEntry>, magnets: Iterable<MagnetEntry>): TorrentTotals {
  const byState: Partial<Record<TorrentStateName, number>> = {};
  let torrents = 0;
  let down = 0;
  let up = 0;
  let downloaded = 0;
  let uploaded = 0;
  let peers = 0;
  for (const entry of entries) {
    torrents++;
    const state = stateOf(entry);
    byState[state] = (byState[state] ?? 0) + 1;
    const rates = ratesOf(entry);
    down += rates.down;
    up += rates.up;
    const totals = entry.runTotals();
    downloaded += totals.downloaded;
    uploaded += totals.uploaded;
    peers += entry.torrent?.peers.size ?? 0;
  }
  for (const magnet of magnets) {
    torrents++;
    const state = magnetSummaryOf(magnet).state;
    byState[state] = (byState[state] ?? 0) + 1;
    peers += magnet.magnet?.peerCount ?? 0;
  }
  return { torrents, byState, downloadRate: down, uploadRate: up, downloaded, uploaded, peers };
}
