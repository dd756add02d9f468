// A torrent's announce to one udp:// tracker, in the terms of the tracker tiers (tracker-client.ts):
// the AnnounceResult an HTTP tracker's reply gives, and a tracker's error packet as a TrackerError
// "failure" like an HTTP `failure reason`. All torrents of the process share one UdpTrackerClient.
import { clampInterval, TrackerError, type AnnounceResult } from "./tracker-reply.ts";
import { UdpTrackerClient, UdpTrackerError, type UdpAnnounce } from "./udp-tracker-client.ts";

/**
 * Attempts per request for announces: BEP 15's first two timeouts (15 s, then 30 s), so a silent UDP
 * tracker holds up the tier walk for 45 s per request rather than the full schedule's hours.
 */
const ANNOUNCE_ATTEMPTS = 2;

let shared: UdpTrackerClient | null = null;

/** The process's UDP tracker client (sockets bound on first use; they do not keep the process alive). */
export function processUdpTrackerClient(): UdpTrackerClient {
  shared ??= new UdpTrackerClient({ maxAttempts: ANNOUNCE_ATTEMPTS });
  return shared;
}

export function isUdpTrackerUrl(url: string): boolean {
  return /^udp:\/\//i.test(url);
}

export async function udpAnnounce(client: UdpTrackerClient, url: string, announce: UdpAnnounce, signal?: AbortSignal): Promise<AnnounceResult> {
  try {
    const reply = await client.announce(url, announce, signal);
    return { tracker: url, peers: reply.peers, interval: clampInterval(reply.interval), leechers: reply.leechers };
  } catch (error) {
    if (error instanceof UdpTrackerError && error.code === "tracker-error") throw new TrackerError("failure", error.message);
    if (error instanceof UdpTrackerError) throw new TrackerError(error.code === "bad-reply" ? "bad-response" : "unreachable", error.message);
    throw error;
  }
}
