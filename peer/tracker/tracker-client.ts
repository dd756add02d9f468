// Announces over the tracker tiers of BEP 12, HTTP(S) (BEP 3, compact peers BEP 23, IPv6 `peers6` BEP 7)
// and UDP (BEP 15, tracker/udp-announce.ts) alike: trackers in a tier are shuffled once, tried in order,
// and one that answers moves to the front of its tier; the next tier is tried only when every tracker
// of this one failed. Re-announces at the tracker's `interval`; backs off (doubling, capped) while none answers.
import { percentEncodeBytes } from "../../shared/ids.ts";
import { readAnnounceReply, TrackerError, type AnnounceResult } from "./tracker-reply.ts";
import { isUdpTrackerUrl, processUdpTrackerClient, udpAnnounce } from "./udp-announce.ts";
import type { UdpTrackerClient } from "./udp-tracker-client.ts";

export { TrackerError, type AnnounceResult } from "./tracker-reply.ts";

export type AnnounceEvent = "started" | "completed" | "stopped" | undefined;

export interface AnnounceStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

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

const NUMWANT = 50;
const TIMEOUT_MS = 10_000;
const BACKOFF_START_S = 5;
const BACKOFF_MAX_S = 600;

export class TrackerClient {
  private tiers: string[][];
  private failures = 0;
  /** BEP 15's key: one per torrent, the same in every UDP announce. */
  private readonly key = crypto.getRandomValues(new Uint32Array(1))[0]!;
  /** Per URL, in the torrent's order. */
  private statuses: TrackerStatus[];
  /**
   * Trackers sent an announce of ours (not a `stopped`): they may list us until told `stopped`. Counted
   * when it is sent, not when its reply is read: one whose reply is still on its way has us already.
   */
  private readonly told = new Set<string>();

  constructor(
    announceList: string[][],
    private readonly infoHash: Uint8Array,
    private readonly peerId: Uint8Array,
    private readonly port: number,
    private readonly udp: UdpTrackerClient = processUdpTrackerClient(),
  ) {
    this.tiers = announceList.map((tier) => shuffle(tier.filter(isSupportedTracker))).filter((tier) => tier.length > 0);
    this.statuses = initialStatuses(announceList);
  }

  /**
   * The torrent's trackers changed (the daemon's API): a tracker kept keeps its place in its tier (the one
   * that answered stays first) and its status; new ones are shuffled in after. Returns the trackers dropped
   * that we announced to (owed a `stopped`: stopAt).
   */
  replaceTiers(announceList: string[][]): string[] {
    const order = new Map(this.tiers.flat().map((url, i) => [url, i]));
    const rank = (url: string) => order.get(url) ?? Number.POSITIVE_INFINITY;
    this.tiers = announceList
      .map((tier) => {
        const usable = tier.filter(isSupportedTracker);
        const known = usable.filter((url) => order.has(url)).sort((a, b) => rank(a) - rank(b));
        return [...known, ...shuffle(usable.filter((url) => !order.has(url)))];
      })
      .filter((tier) => tier.length > 0);
    const before = new Map(this.statuses.map((s) => [s.url, s]));
    this.statuses = initialStatuses(announceList).map((fresh) => ({ ...(before.get(fresh.url) ?? fresh), tier: fresh.tier }));
    const kept = new Set(announceList.flat());
    const gone = [...this.told].filter((url) => !kept.has(url));
    for (const url of gone) this.told.delete(url);
    return gone;
  }

  /** Tells one tracker, no longer the torrent's, that we leave (bounded; a failure is let go). */
  async stopAt(url: string, stats: AnnounceStats, timeoutMs: number): Promise<void> {
    try {
      await this.announceTo(url, "stopped", stats, timeoutMs);
    } catch {
      // leaving anyway: it forgets us after its own timeout
    }
  }

  /** What each tracker did last (copies). */
  status(): TrackerStatus[] {
    return this.statuses.map((s) => ({ ...s }));
  }

  private note(url: string, change: Partial<TrackerStatus>): void {
    for (const s of this.statuses) if (s.url === url) Object.assign(s, change);
  }

  get hasTrackers(): boolean {
    return this.tiers.length > 0;
  }

  /** Seconds to wait before the next try after a failed round. */
  backoffSeconds(): number {
    return Math.min(BACKOFF_MAX_S, BACKOFF_START_S * 2 ** Math.max(0, this.failures - 1));
  }

  /**
   * Tries the tiers in order until one tracker answers. A `failure reason` (or UDP error packet) is
   * thrown at once (as the user must see it). `timeoutMs` bounds an HTTP request (10 s by default);
   * a UDP request runs BEP 15's retransmission schedule unless `timeoutMs` is given. `signal` ends the
   * announce where it stands (the torrent stops): no further tracker is tried.
   */
  async announce(event: AnnounceEvent, stats: AnnounceStats, timeoutMs?: number, signal?: AbortSignal): Promise<AnnounceResult> {
    let lastProblem = "no HTTP(S) or UDP tracker in the torrent";
    for (const tier of this.tiers) {
      for (let i = 0; i < tier.length; i++) {
        const url = tier[i]!;
        try {
          this.note(url, { status: "updating" });
          if (event !== "stopped") this.told.add(url);
          const result = await this.announceTo(url, event, stats, timeoutMs, signal);
          this.note(url, { status: "working", lastError: null, peers: result.peers.length });
          if (event === "stopped") this.told.delete(url);
          tier.splice(i, 1);
          tier.unshift(url);
          this.failures = 0;
          return result;
        } catch (error) {
          if (signal?.aborted) throw new TrackerError("unreachable", "the announce was called off");
          this.note(url, { status: "error", lastError: error instanceof Error ? error.message : String(error) });
          if (error instanceof TrackerError && error.code === "failure") {
            this.failures++;
            throw error;
          }
          lastProblem = `${url}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
    }
    this.failures++;
    throw new TrackerError("unreachable", `no tracker answered (${lastProblem})`);
  }

  private async announceTo(
    url: string,
    event: AnnounceEvent,
    stats: AnnounceStats,
    timeoutMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<AnnounceResult> {
    const numWant = event === "stopped" ? 0 : NUMWANT;
    if (isUdpTrackerUrl(url)) {
      const announce = { infoHash: this.infoHash, peerId: this.peerId, port: this.port, event, ...stats, numWant, key: this.key };
      return udpAnnounce(this.udp, url, announce, anySignal(timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs), signal));
    }
    const query =
      `info_hash=${percentEncodeBytes(this.infoHash)}&peer_id=${percentEncodeBytes(this.peerId)}` +
      `&port=${this.port}&uploaded=${stats.uploaded}&downloaded=${stats.downloaded}&left=${stats.left}` +
      `&compact=1&numwant=${numWant}` +
      (event ? `&event=${event}` : "");
    const full = url + (url.includes("?") ? "&" : "?") + query;
    let response: Response;
    try {
      response = await fetch(full, { signal: anySignal(AbortSignal.timeout(timeoutMs ?? TIMEOUT_MS), signal), redirect: "follow" });
    } catch (error) {
      throw refusedOr(url, error);
    }
    return readAnnounceReply(url, response.status, new Uint8Array(await response.arrayBuffer()));
  }
}

/**
 * A closed port said in the same words as for a UDP tracker (udp-sockets.ts), rather than as fetch puts it
 * ("ECONNREFUSED: Unable to connect. Is the computer able to access the url?"); other errors as they are.
 */
function refusedOr(url: string, error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== "ECONNREFUSED") return error;
  return new TrackerError("unreachable", `${new URL(url).host}: connection refused (nothing listens on that port)`);
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
