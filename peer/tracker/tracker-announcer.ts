// Drives the tracker client over a torrent's life: `started`, re-announces at each lane's interval (one
// timer, at the lane due first: tracker-client.ts), `completed`, and `stopped` at shutdown. A lane that gets
// no answer backs off and keeps trying; when no lane works and we know no peers some other way, it is a
// fatal error for the torrent.
import type { PeerAddress } from "../../shared/compact.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { AnnounceScope } from "./announce-scope.ts";
import { TrackerClient, type AnnounceResult, type AnnounceStats, type TrackerStatus } from "./tracker-client.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { TrackerFailureCode } from "../torrent/exit-codes.ts";
import { noPeerFound, noTrackerNoPeer } from "../torrent/no-peer.ts";

export interface AnnouncerHooks {
  stats(): AnnounceStats;
  peersFound(peers: PeerAddress[]): void;
  emit(event: TorrentEvent): void;
  knowsPeers(): boolean;
  fatal(code: TrackerFailureCode, message: string): void;
}

const STOP_TIMEOUT_MS = 3_000;

/**
 * A torrent's announcing as it stood when the torrent went dormant (handOver): the client's DormantAnnounces
 * goes on from it with the same TrackerClient (its lanes: tier order, events, intervals; key, statuses), and
 * the torrent made again takes it back (start's `carry`), so no announce is repeated or skipped. Mutable:
 * whoever holds it updates it.
 */
export interface AnnounceCarry {
  readonly client: TrackerClient;
  /** When the next announce is due (ms since the epoch): the lane due first. */
  nextAnnounceAt: number;
  failures: number;
  /** What the torrent reports (nothing moves while it is dormant). */
  stats: AnnounceStats;
  /** An announce the dormant scheduler has under way; the torrent made again waits for it before going on. */
  inFlight: Promise<void> | null;
  /** Calls off the announce under way (the torrent is removed, or the client stops: its `stopped` goes now). */
  callOff: (() => void) | null;
}

/**
 * The announcing of a torrent that starts dormant (a daemon's stored seeder): its `started` is due after
 * `delayMs`, as TrackerAnnouncer.start would send it. Null when it names no HTTP(S) or UDP tracker.
 */
export function firstCarry(
  meta: Pick<Metainfo, "infoHash" | "announceList">,
  peerId: Uint8Array,
  port: number,
  delayMs: number,
  scope: () => AnnounceScope,
): AnnounceCarry | null {
  if (meta.announceList.length === 0) return null;
  const client = new TrackerClient(meta.announceList, meta.infoHash, peerId, port, undefined, scope);
  if (!client.hasTrackers) return null;
  const stats = { uploaded: 0, downloaded: 0, left: 0 };
  return { client, nextAnnounceAt: Date.now() + delayMs, failures: 0, stats, inFlight: null, callOff: null };
}

/** Tells each tracker announced to that we leave (bounded: a tracker forgets us after its timeout anyway). */
export async function announceStopped(client: TrackerClient, stats: AnnounceStats): Promise<void> {
  await client.stopAll(stats, STOP_TIMEOUT_MS);
}

export class TrackerAnnouncer {
  private client: TrackerClient | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private pendingCompleted = false;
  /**
   * The rounds under way, each by what calls it off (a stop must not wait for a silent tracker's schedule,
   * 45 s per UDP request). More than one when rounds overlap (a reannounce during one waits for its lane).
   */
  private readonly rounds = new Set<AbortController>();
  /** Totals of the torrents this one was made again from (its dormant run): added to what it reports. */
  private base = { uploaded: 0, downloaded: 0 };
  /** Bumped by each start and stop: an announce still in flight from an earlier run is ignored. */
  private generation = 0;
  /** The torrent's tracker tiers: the metainfo's, until setTrackers changes them. */
  private tiers: string[][];
  /** Our peer port, as the last start gave it. */
  private port = 0;

  constructor(
    /** A magnet link's torrent has only these until its metadata arrives. */
    private readonly meta: Pick<Metainfo, "infoHash" | "announceList">,
    private readonly peerId: Uint8Array,
    private readonly hooks: AnnouncerHooks,
    /** Which trackers it announces to (the client's settings), read at each round. */
    private readonly scope: () => AnnounceScope = () => "first-tier",
    /** Trackers the magnet link's fetch announced to (a torrent its metadata made): taken over by the first client. */
    private inherited: readonly string[] = [],
  ) {
    this.tiers = meta.announceList;
  }

  /** When the next announce is due (ms since the epoch), null when none is planned. */
  nextAnnounceAt: number | null = null;
  /** Announces that failed (no tracker answered, or one refused) over this run. */
  failures = 0;

  /** What each tracker of the torrent did last; empty before the first start. */
  status(): TrackerStatus[] {
    return this.client?.status() ?? [];
  }

  /**
   * Announces `started`; may be called again after stop() (a paused torrent resumed). `delayMs`: wait
   * this long before the first announce (a daemon starting many torrents spreads them). `carry`: the
   * announcing of the dormant torrent this one was made again from, gone on with rather than started anew.
   */
  start(port: number, _seeding: boolean, delayMs = 0, carry?: AnnounceCarry): void {
    this.generation++;
    this.stopped = false;
    this.pendingCompleted = false;
    this.port = port;
    if (carry) return this.resume(carry);
    // A torrent naming no tracker at all (as many of a daemon's do) keeps no client: it has nothing to report.
    const client = this.tiers.length > 0 ? this.newClient(this.tiers, port) : null;
    this.client = client;
    if (this.inherited.length > 0) this.takeOver(client ?? new TrackerClient([], this.meta.infoHash, this.peerId, port));
    if (!client?.hasTrackers) {
      if (client) this.hooks.emit({ event: "warning", message: "the torrent names no HTTP(S) or UDP tracker" });
      if (!this.hooks.knowsPeers()) this.hooks.fatal("tracker-unreachable", noTrackerNoPeer("the torrent"));
      return;
    }
    if (delayMs > 0) {
      this.nextAnnounceAt = Date.now() + delayMs;
      this.schedule(delayMs, true);
    } else this.run(undefined, true);
  }

  private newClient(tiers: string[][], port: number): TrackerClient {
    return new TrackerClient(tiers, this.meta.infoHash, this.peerId, port, undefined, this.scope);
  }

  private resume(carry: AnnounceCarry): void {
    this.client = carry.client;
    this.base = { uploaded: carry.stats.uploaded, downloaded: carry.stats.downloaded };
    const run = this.generation;
    const go = () => {
      if (run !== this.generation) return;
      this.failures = carry.failures;
      this.nextAnnounceAt = carry.nextAnnounceAt;
      this.schedule(Math.max(0, carry.nextAnnounceAt - Date.now()), false);
    };
    if (carry.inFlight) void carry.inFlight.then(go);
    else go();
  }

  /** Nothing under way: no announce in flight and no `completed` owed (a torrent may go dormant). */
  get settled(): boolean {
    return this.rounds.size === 0 && !this.pendingCompleted;
  }

  /**
   * Stops announcing, without a `stopped`, and hands what it was doing to whoever goes on with it (the
   * torrent went dormant); null when it has no tracker to announce to.
   */
  handOver(): AnnounceCarry | null {
    const client = this.client;
    if (!client?.hasTrackers || this.stopped) return null;
    const carry: AnnounceCarry = {
      client,
      nextAnnounceAt: this.nextAnnounceAt ?? Date.now(),
      failures: this.failures,
      stats: this.stats(),
      inFlight: null,
      callOff: null,
    };
    this.abandon();
    return carry;
  }

  private stats(): AnnounceStats {
    const now = this.hooks.stats();
    return { uploaded: this.base.uploaded + now.uploaded, downloaded: this.base.downloaded + now.downloaded, left: now.left };
  }

  /** Whether trackers may still give peers: there are some, and a failure is retried. */
  mayFindPeers(): boolean {
    return this.client?.hasTrackers === true && !this.stopped;
  }

  /** `completed` to every lane that announced (`started` to one that has not yet), after a round under way. */
  completed(): void {
    if (!this.client?.hasTrackers || this.stopped) return;
    if (this.rounds.size > 0) {
      this.pendingCompleted = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.run("completed", true);
  }

  /** Announces to every lane now rather than at their intervals (asked by the user). */
  reannounce(): void {
    if (!this.client?.hasTrackers || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.run(undefined, true);
  }

  /**
   * The torrent's trackers changed (the daemon's API): from now on it announces to these. While it runs, a
   * tracker dropped that we announced to is told `stopped`, and it announces at once to every lane of the new
   * list (`started` to a lane that has not announced yet), as a reannounce does; paused
   * or not started yet, its next start takes them.
   */
  setTrackers(tiers: string[][]): void {
    this.tiers = tiers;
    const running = !this.stopped && this.port !== 0;
    if (!this.client) {
      if (!running || tiers.length === 0) return;
      this.client = this.newClient(tiers, this.port);
      if (this.inherited.length > 0) this.takeOver(this.client);
    }
    const client = this.client;
    const gone = client.replaceTiers(tiers);
    if (!running) return;
    const stats = this.stats();
    for (const url of gone) void client.stopAt(url, stats, STOP_TIMEOUT_MS);
    // An announce under way (to a tracker that may be gone) is ignored: this one replaces it.
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.nextAnnounceAt = null;
    if (client.hasTrackers) this.run(undefined, true);
  }

  /** Trackers announced to and not told `stopped` (handed to the torrent a magnet link's metadata makes). */
  told(): string[] {
    return this.client?.toldTrackers() ?? [];
  }

  /**
   * The fetch's trackers become this client's: those the torrent keeps are told `stopped` when it leaves
   * them, the others now (an edit or a private .torrent dropped them during the handover).
   */
  private takeOver(client: TrackerClient): void {
    const dropped = client.adoptTold(this.inherited);
    this.inherited = [];
    const stats = this.stats();
    for (const url of dropped) void client.stopAt(url, stats, STOP_TIMEOUT_MS);
  }

  /** Stops announcing without telling the tracker: the torrent goes on under another announcer (a magnet's, once its metadata is in). */
  abandon(): void {
    this.stopped = true;
    this.generation++;
    for (const round of this.rounds) round.abort();
    if (this.timer) clearTimeout(this.timer);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.generation++;
    this.nextAnnounceAt = null;
    for (const round of this.rounds) round.abort();
    if (this.timer) clearTimeout(this.timer);
    if (!this.client?.owesStopped) return;
    await announceStopped(this.client, this.stats());
  }

  /** A round: to every lane (`all`) or to those due; then the timer for the lane due next. */
  private run(want: "completed" | undefined, all: boolean): void {
    const client = this.client;
    if (!client || this.stopped) return;
    const run = this.generation;
    void (async () => {
      const callOff = new AbortController();
      this.rounds.add(callOff);
      const onAnswer = (result: AnnounceResult) => {
        if (run === this.generation) this.answered(result);
      };
      const outcome = await client.round(want, this.stats(), { all, signal: callOff.signal, onAnswer }).finally(() => this.rounds.delete(callOff));
      if (run !== this.generation) return;
      this.failures += outcome.failures.length;
      if (outcome.answers.length === 0 && outcome.failures.length > 0 && !client.anyWorking && !this.hooks.knowsPeers()) {
        const first = outcome.failures.find((f) => f.error.code === "failure") ?? outcome.failures[0]!;
        return this.hooks.fatal(first.error.code === "failure" ? "tracker-failure" : "tracker-unreachable", noPeerFound(first.error.message));
      }
      for (const { error, retryInS } of outcome.failures) this.hooks.emit({ event: "warning", message: `${error.message}; retrying in ${retryInS} s` });
      if (this.pendingCompleted && outcome.answers.length > 0) {
        this.pendingCompleted = false;
        this.nextAnnounceAt = Date.now();
        return this.run("completed", true);
      }
      const next = Math.max(0, client.nextDueAt() - Date.now());
      this.nextAnnounceAt = Date.now() + next;
      this.schedule(next, false);
    })();
  }

  /**
   * The one timer for the next round. Rounds that overlapped each plan the next as they end: the last to
   * end replaces what the others planned, or two timers would come due together and announce twice.
   */
  private schedule(delayMs: number, all: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(undefined, all), delayMs);
  }

  private answered(result: AnnounceResult): void {
    this.hooks.emit({ event: "tracker", tracker: result.tracker, peers: result.peers.length, ...(result.warning ? { warning: result.warning } : {}) });
    this.hooks.peersFound(result.peers);
  }
}
