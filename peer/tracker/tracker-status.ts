// What a torrent's trackers did last, per URL, for views (the daemon's API, qBittorrent's torrents/trackers),
// and which URLs btpeer announces to at all.
import { isUdpTrackerUrl } from "./udp-announce.ts";

/** What one tracker URL did last, for views (the daemon's API); never used to decide anything. */
export interface TrackerStatus {
  url: string;
  tier: number;
  /** `unsupported`: a scheme btpeer does not announce over (wss://, WebTorrent's): listed, never contacted. */
  status: "not-contacted" | "updating" | "working" | "error" | "unsupported";
  lastError: string | null;
  /** Peers in its last reply. */
  peers: number;
}

/** Whether btpeer announces to the URL: HTTP(S) (BEP 3) and UDP (BEP 15); not WebSocket (wss://). */
export function isSupportedTracker(url: string): boolean {
  return /^https?:\/\//i.test(url) || isUdpTrackerUrl(url);
}

/**
 * A torrent's trackers before any announce, in its order: not contacted yet, or `unsupported` with why.
 * What the lists show of a torrent with no announcer running (dormant without one, or not started yet) too.
 */
export function initialStatuses(announceList: readonly (readonly string[])[]): TrackerStatus[] {
  return announceList.flatMap((urls, tier) =>
    urls.map((url): TrackerStatus => {
      if (isSupportedTracker(url)) return { url, tier, status: "not-contacted", lastError: null, peers: 0 };
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
      const what = scheme ? `${scheme}:// trackers are` : "this tracker URL is";
      return { url, tier, status: "unsupported", lastError: `${what} not supported (btpeer announces over HTTP(S) and UDP only)`, peers: 0 };
    }),
  );
}
