// Drives the tracker client over a torrent's life: `started`, re-announces at the tracker's interval,
// `completed`, and `stopped` at shutdown. When no tracker answers it backs off and keeps trying as long
// as we know peers some other way; with no peers at all it is a fatal error for the torrent.
import type { PeerAddress } from "../../shared/compact.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { TrackerClient, TrackerError, type AnnounceEvent, type AnnounceStats, type TrackerStatus } from "./tracker-client.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { TrackerFailureCode } from "../torrent/exit-codes.ts";

export interface AnnouncerHooks {
  stats(): AnnounceStats;
  peersFound(peers: PeerAddress[]): void;
  emit(event: TorrentEvent): void;
  knowsPeers(): boolean;
  fatal(code: TrackerFailureCode, message: string): void;
}

const STOP_TIMEOUT_MS = 3_000;

export class TrackerAnnouncer {
  private client: TrackerClient | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private startedOk = false;
  /** A `started` went out (answered or not): the tracker may count us until it hears `stopped`. */
  private startSent = false;
  private stopped = false;
  private pendingCompleted = false;
  /** Bumped by each start and stop: an announce still in flight from an earlier run is ignored. */
  private generation = 0;

  constructor(
    /** A magnet link's torrent has only these until its metadata arrives. */
    private readonly meta: Pick<Metainfo, "infoHash" | "announceList">,
    private readonly peerId: Uint8Array,
    private readonly hooks: AnnouncerHooks,
  ) {}

  /** When the next announce is due (ms since the epoch), null when none is planned. */
  nextAnnounceAt: number | null = null;
  /** Announces that failed (no tracker answered, or one refused) over this run. */
  failures = 0;

  /** What each tracker of the torrent did last; empty before the first start. */
  status(): TrackerStatus[] {
    return this.client?.status() ?? [];
  }

  /** Announces `started`; may be called again after stop() (a paused torrent resumed). */
  /** `delayMs`: wait this long before the first announce (a daemon starting many torrents spreads them). */
  start(port: number, _seeding: boolean, delayMs = 0): void {
    this.generation++;
    this.stopped = false;
    this.startedOk = false;
    this.startSent = false;
    this.pendingCompleted = false;
    // A torrent naming no tracker at all (as many of a daemon's do) keeps no client: it has nothing to report.
    const client = this.meta.announceList.length > 0 ? new TrackerClient(this.meta.announceList, this.meta.infoHash, this.peerId, port) : null;
    this.client = client;
    if (!client?.hasTrackers) {
      if (client) this.hooks.emit({ event: "warning", message: "the torrent names no HTTP(S) or UDP tracker" });
      if (!this.hooks.knowsPeers()) this.hooks.fatal("tracker-unreachable", "no usable tracker in the torrent and no --peer given");
      return;
    }
    if (delayMs > 0) this.timer = setTimeout(() => this.run("started"), delayMs);
    else this.run("started");
  }

  /** Whether trackers may still give peers: there are some, and a failure is retried. */
  mayFindPeers(): boolean {
    return this.client?.hasTrackers === true && !this.stopped;
  }

  completed(): void {
    if (!this.client?.hasTrackers || this.stopped) return;
    if (!this.startedOk) {
      this.pendingCompleted = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.run("completed");
  }

  /** Announces now rather than at the tracker's interval (asked by the user). */
  reannounce(): void {
    if (!this.client?.hasTrackers || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.run(undefined);
  }

  /** Stops announcing without telling the tracker: the torrent goes on under another announcer (a magnet's, once its metadata is in). */
  abandon(): void {
    this.stopped = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.generation++;
    this.nextAnnounceAt = null;
    if (this.timer) clearTimeout(this.timer);
    if (!this.client?.hasTrackers || !this.startSent) return;
    try {
      await this.client.announce("stopped", this.hooks.stats(), STOP_TIMEOUT_MS);
    } catch {
      // leaving anyway; the tracker forgets us after its timeout
    }
  }

  private run(event: AnnounceEvent): void {
    const client = this.client;
    if (!client || this.stopped) return;
    const run = this.generation;
    void (async () => {
      let next: number;
      try {
        if (!this.startedOk) this.startSent = true;
        const result = await client.announce(this.startedOk ? event : "started", this.hooks.stats());
        if (run !== this.generation) return;
        this.startedOk = true;
        this.hooks.emit({ event: "tracker", tracker: result.tracker, peers: result.peers.length, ...(result.warning ? { warning: result.warning } : {}) });
        this.hooks.peersFound(result.peers);
        next = result.interval * 1000;
        if (this.pendingCompleted) {
          this.pendingCompleted = false;
          next = 0;
          event = "completed";
        } else event = undefined;
      } catch (error) {
        if (run !== this.generation) return;
        this.failures++;
        const message = error instanceof Error ? error.message : String(error);
        const code = error instanceof TrackerError && error.code === "failure" ? "tracker-failure" : "tracker-unreachable";
        if (!this.hooks.knowsPeers()) return this.hooks.fatal(code, message);
        next = client.backoffSeconds() * 1000;
        this.hooks.emit({ event: "warning", message: `${message}; retrying in ${Math.round(next / 1000)} s` });
      }
      const again = event;
      this.nextAnnounceAt = Date.now() + next;
      this.timer = setTimeout(() => this.run(again), next);
    })();
  }
}
