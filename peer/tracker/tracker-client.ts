// Announces to a torrent's trackers, HTTP(S) (BEP 3, compact peers BEP 23, IPv6 `peers6` BEP 7) and UDP
// (BEP 15, tracker/udp-announce.ts) alike, over the lanes its AnnounceScope cuts the tiers into (one lane of
// all tiers under strict BEP 12, one per tier by default, one per tracker). Within a lane BEP 12 holds:
// trackers in a tier are shuffled once, tried in order, and one that answers moves to the front of its tier;
// the lane's next tier is tried only when every tracker of this one failed. Lanes are announced to at once,
// each with its own event, interval and backoff (tracker-lane.ts).
import { percentEncodeBytes } from "../../shared/ids.ts";
import { lanesOf, type AnnounceScope } from "./announce-scope.ts";
import { TrackerLane } from "./tracker-lane.ts";
import { readAnnounceReply, TrackerError, type AnnounceResult } from "./tracker-reply.ts";
import { initialStatuses, isSupportedTracker, type TrackerStatus } from "./tracker-status.ts";
import { isUdpTrackerUrl, processUdpTrackerClient, udpAnnounce } from "./udp-announce.ts";
import type { UdpTrackerClient } from "./udp-tracker-client.ts";

export { TrackerError, type AnnounceResult } from "./tracker-reply.ts";
export { initialStatuses, isSupportedTracker, type TrackerStatus } from "./tracker-status.ts";

export type AnnounceEvent = "started" | "completed" | "stopped" | undefined;

export interface AnnounceStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

/** What a round of announces came to: each lane's answer or failure. */
export interface RoundOutcome {
  answers: AnnounceResult[];
  /** Per lane that failed: why, and the seconds it waits before trying again. */
  failures: { error: TrackerError; retryInS: number }[];
}

const NUMWANT = 50;
const TIMEOUT_MS = 10_000;
/** Lanes due within this of the round are asked with it, rather than a second later by a round of their own. */
const DUE_SLACK_MS = 1_000;

export class TrackerClient {
  /** The torrent's usable tiers, each in its BEP 12 order; the lanes hold these same arrays. */
  private tiers: string[][];
  private lanes: TrackerLane[] = [];
  private laneScope: AnnounceScope;
  /** BEP 15's key: one per torrent, the same in every UDP announce. */
  private readonly key = crypto.getRandomValues(new Uint32Array(1))[0]!;
  /** Per URL, in the torrent's order. */
  private statuses: TrackerStatus[];
  /**
   * Trackers sent an announce of ours (not a `stopped`): they may list us until told `stopped`. Counted
   * when it is sent, not when its reply is read: one whose reply is still on its way has us already.
   */
  private readonly told = new Set<string>();
  /**
   * HTTP announces still on their way, by tracker: one called off is no longer waited for but runs to its
   * end, and a `stopped` to that tracker waits for it (stopAt). Sent at once on another connection, the
   * `stopped` could be handled first, and the tracker would then keep us as a peer until it timed us out.
   */
  private readonly httpInFlight = new Map<string, Promise<void>>();

  constructor(
    announceList: string[][],
    private readonly infoHash: Uint8Array,
    private readonly peerId: Uint8Array,
    private readonly port: number,
    private readonly udp: UdpTrackerClient = processUdpTrackerClient(),
    /** Read at each round: a change of the settings applies from the torrent's next announce. */
    private readonly scope: () => AnnounceScope = () => "first-tier",
  ) {
    this.tiers = announceList.map((tier) => shuffle(tier.filter(isSupportedTracker))).filter((tier) => tier.length > 0);
    this.statuses = initialStatuses(announceList);
    this.laneScope = scope();
    this.relane();
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
    this.relane();
    const before = new Map(this.statuses.map((s) => [s.url, s]));
    this.statuses = initialStatuses(announceList).map((fresh) => ({ ...(before.get(fresh.url) ?? fresh), tier: fresh.tier }));
    const kept = new Set(announceList.flat());
    const gone = [...this.told].filter((url) => !kept.has(url));
    for (const url of gone) this.told.delete(url);
    return gone;
  }

  /** Cuts the tiers into lanes anew; a lane goes on from the old one whose last answer came from a tracker of its. */
  private relane(): void {
    const old = this.lanes;
    this.lanes = lanesOf(this.laneScope, this.tiers).map((tiers) => {
      const lane = new TrackerLane(tiers);
      const urls = new Set(tiers.flat());
      const from =
        old.find((o) => o.current !== null && urls.has(o.current)) ??
        // A lane whose first announce is under way: its answer must reach the new lane (else a second `started`).
        old.find((o) => o.current === null && o.underWay !== null && o.tiers.some((tier) => tier.some((url) => urls.has(url))));
      if (from) lane.inherit(from);
      return lane;
    });
  }

  /** The trackers sent an announce of ours and not told `stopped` since. */
  toldTrackers(): string[] {
    return [...this.told];
  }

  /**
   * Trackers another client of this torrent announced to (a magnet link's fetch, before its metadata was
   * in): those in our tiers are owed a `stopped` as if we had announced to them; returns the others, owed
   * one now (stopAt), since nothing of ours will ever tell them.
   */
  adoptTold(urls: readonly string[]): string[] {
    const ours = new Set(this.tiers.flat());
    for (const url of urls) if (ours.has(url)) this.told.add(url);
    return urls.filter((url) => !ours.has(url));
  }

  /** Tells one tracker, no longer the torrent's, that we leave (bounded; a failure is let go). */
  async stopAt(url: string, stats: AnnounceStats, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const before = this.httpInFlight.get(url);
    if (before) await Promise.race([before, Bun.sleep(timeoutMs / 2)]);
    try {
      await this.announceTo(url, "stopped", stats, Math.max(timeoutMs / 2, deadline - Date.now()));
    } catch {
      // leaving anyway: it forgets us after its own timeout
    }
  }

  /** Tells every tracker we announced to that we leave, all at once (each bounded; failures let go). */
  async stopAll(stats: AnnounceStats, timeoutMs: number): Promise<void> {
    const urls = [...this.told];
    this.told.clear();
    await Promise.all(urls.map((url) => this.stopAt(url, stats, timeoutMs)));
  }

  /** Whether a `stopped` is owed: some tracker was sent an announce of ours. */
  get owesStopped(): boolean {
    return this.told.size > 0;
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

  /** When the next lane is due (ms since the epoch). */
  nextDueAt(): number {
    return Math.min(...this.lanes.map((lane) => lane.nextAt));
  }

  /** Whether some lane's last announce was answered (a lane that failed is then not the torrent's end). */
  get anyWorking(): boolean {
    return this.lanes.some((lane) => lane.working);
  }

  /**
   * Announces to every lane (`all`: the torrent starts, completes, is reannounced or has new trackers) or to
   * those due, at once: a lane with no answer yet sends `started`, one that has `want`. `onAnswer` hears each
   * answer as it comes (a slow lane does not hold the peers of a quick one). `timeoutMs` bounds an HTTP
   * request (10 s by default); a UDP request runs BEP 15's schedule unless it is given. `signal` ends the
   * round where it stands (the torrent stops): no further tracker is tried.
   */
  async round(
    want: "completed" | undefined,
    stats: AnnounceStats,
    options: { all: boolean; timeoutMs?: number; signal?: AbortSignal; onAnswer?: (result: AnnounceResult) => void },
  ): Promise<RoundOutcome> {
    const scope = this.scope();
    if (scope !== this.laneScope) {
      this.laneScope = scope;
      this.relane();
    }
    const now = Date.now();
    // A lane with an announce under way is not due: that announce's answer sets when it is due next.
    const due = options.all ? this.lanes : this.lanes.filter((lane) => lane.underWay === null && lane.nextAt <= now + DUE_SLACK_MS);
    const outcome: RoundOutcome = { answers: [], failures: [] };
    await Promise.all(
      due.map(async (lane) => {
        // One announce at a time per lane: a round asked for during another (a reannounce, an edit) follows it.
        while (lane.underWay) {
          const before = lane.underWay;
          await before.catch(() => {});
          if (lane.underWay === before) lane.underWay = null;
        }
        const announce = this.announceLane(lane, lane.current === null ? "started" : want, stats, options.timeoutMs, options.signal);
        lane.underWay = announce;
        try {
          const result = await announce;
          outcome.answers.push(result);
          options.onAnswer?.(result);
        } catch (error) {
          outcome.failures.push({ error: asTrackerError(error), retryInS: lane.backoffSeconds() });
        } finally {
          if (lane.underWay === announce) lane.underWay = null;
        }
      }),
    );
    return outcome;
  }

  /**
   * Announces `event` to every lane at once and merges their answers (peers of all, the shortest interval);
   * throws when no lane answered: a tracker's refusal (`failure`) first, else `unreachable`.
   */
  async announce(event: AnnounceEvent, stats: AnnounceStats, timeoutMs?: number, signal?: AbortSignal): Promise<AnnounceResult> {
    if (this.lanes.length === 0) throw new TrackerError("unreachable", "no tracker answered (no HTTP(S) or UDP tracker in the torrent)");
    const settled = await Promise.allSettled(this.lanes.map((lane) => this.announceLane(lane, event, stats, timeoutMs, signal)));
    const answers = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    if (answers.length === 0) {
      const errors = settled.map((s) => asTrackerError((s as PromiseRejectedResult).reason));
      throw errors.find((e) => e.code === "failure") ?? errors[errors.length - 1]!;
    }
    const peers = new Map(answers.flatMap((a) => a.peers).map((p) => [`${p.ip}:${p.port}`, p]));
    return { ...answers[0]!, peers: [...peers.values()], interval: Math.min(...answers.map((a) => a.interval)) };
  }

  /** One lane, BEP 12: its tiers in order until a tracker answers; a `failure reason` (or UDP error packet) ends it at once. */
  private async announceLane(
    lane: TrackerLane,
    event: AnnounceEvent,
    stats: AnnounceStats,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<AnnounceResult> {
    let lastProblem = "no HTTP(S) or UDP tracker in the torrent";
    const urls = lane.tiers.flat(); // a copy: an answer reorders the tiers
    for (const url of urls) {
      try {
        this.note(url, { status: "updating" });
        if (event !== "stopped") this.told.add(url);
        const result = await this.announceTo(url, event, stats, timeoutMs, signal);
        this.note(url, { status: "working", lastError: null, peers: result.peers.length });
        if (event === "stopped") this.told.delete(url);
        else lane.answered(url, result.interval, Date.now());
        return result;
      } catch (error) {
        if (signal?.aborted) throw new TrackerError("unreachable", "the announce was called off");
        this.note(url, { status: "error", lastError: error instanceof Error ? error.message : String(error) });
        if (error instanceof TrackerError && error.code === "failure") {
          if (event !== "stopped") lane.failed(Date.now());
          throw error;
        }
        lastProblem = `${url}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (event !== "stopped") lane.failed(Date.now());
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
    // Only the timeout ends the request itself; `signal` ends the wait for it (see httpInFlight).
    const request = fetch(full, { signal: AbortSignal.timeout(timeoutMs ?? TIMEOUT_MS), redirect: "follow" }).then(async (response) => ({
      status: response.status,
      body: new Uint8Array(await response.arrayBuffer()),
    }));
    const done = request.then(
      () => {},
      () => {},
    );
    this.httpInFlight.set(url, done);
    void done.then(() => {
      if (this.httpInFlight.get(url) === done) this.httpInFlight.delete(url);
    });
    let reply: { status: number; body: Uint8Array };
    try {
      reply = await (signal ? untilAborted(request, signal) : request);
    } catch (error) {
      throw refusedOr(url, error);
    }
    return readAnnounceReply(url, reply.status, reply.body);
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

function asTrackerError(error: unknown): TrackerError {
  return error instanceof TrackerError ? error : new TrackerError("unreachable", error instanceof Error ? error.message : String(error));
}

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
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
