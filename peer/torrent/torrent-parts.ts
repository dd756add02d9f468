// The parts of one torrent and what they do together: storage's pieces, the downloader and uploader, its
// connections (torrent-peers.ts), the tracker, the DHT (torrent-dht.ts), piece memory and web seeds
// (download-sources.ts), progress and seeding goals; working (downloading, seeding), going quiet,
// completing, the once-a-second tick, failing and ending. Torrent (torrent.ts) runs the lifecycle's steps
// over them, one at a time, and is what its owner sees.
import type { PeerAddress } from "../../shared/compact.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import { Downloader } from "../pieces/downloader.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import { TrackerAnnouncer } from "../tracker/tracker-announcer.ts";
import { Uploader } from "../upload/uploader.ts";
import { TorrentCheck } from "./check.ts";
import { DownloadSources } from "./download-sources.ts";
import type { TorrentEvent, Totals } from "./events.ts";
import { exitCodeFor, type PeerErrorCode } from "./exit-codes.ts";
import { IdleReport } from "./idle-report.ts";
import type { Handover, TorrentOptions } from "./options.ts";
import { ProgressReport } from "./progress-report.ts";
import { SeedingClock } from "./seeding-clock.ts";
import { TorrentLifecycle } from "./state.ts";
import { TorrentDhtLink } from "./torrent-dht.ts";
import { type HookedTorrent, TorrentHooks } from "./torrent-hooks.ts";
import { TorrentPeers } from "./torrent-peers.ts";
import { TorrentTuning } from "./tuning.ts";

export class TorrentParts implements HookedTorrent {
  readonly peers = new Map<number, SwarmPeer>();
  /** Its connections: dialing, admitting, their messages (torrent-peers.ts). */
  readonly swarm: TorrentPeers;
  readonly downloader: Downloader;
  readonly uploader: Uploader;
  readonly tracker: TrackerAnnouncer;
  readonly dht: TorrentDhtLink;
  readonly report: ProgressReport;
  readonly lifecycle: TorrentLifecycle;
  /** Wanted files, sequential order, rate limits, seeding goals: what may change while it runs. */
  readonly tuning: TorrentTuning;
  /** Time seeded this run, for the seed-time goal. */
  readonly seedingClock = new SeedingClock();
  readonly host: TorrentHost;
  /**
   * The check to run before `have` is trusted (at start, or a re-check) until one run goes to its end: a
   * pause or the end aborts it at once, resume() runs it again. Null once done, so an idle torrent holds none.
   */
  check: TorrentCheck | null;
  /** A magnet link's open peers, taken over when the torrent first starts working. */
  private handover: Handover | null;
  private readonly hooks: TorrentHooks;
  /** Announced once already: later starts (resume, after a re-check) announce at once. */
  private announced = false;
  /** Idle ticks (seeding, no peer) stay quiet while the totals last reported hold. */
  private readonly idle = new IdleReport();
  /** Piece memory and web seeds: made the first time it downloads (a torrent started complete never does). */
  private sources: DownloadSources | null = null;
  /** Resolves when the torrent ends: download complete without --seed, stop(), or a fatal error. */
  readonly finished: Promise<number>;
  private finish!: (code: number) => void;

  constructor(readonly options: TorrentOptions) {
    const { meta, have } = options;
    const hooks = (this.hooks = new TorrentHooks(this));
    this.host = options.host;
    this.tuning = new TorrentTuning(meta, this.host.limits, options);
    this.dht = new TorrentDhtLink(meta, this.host, hooks);
    this.handover = options.handover ?? null;
    this.check = options.check ? new TorrentCheck(options, options.check, hooks) : null;
    this.downloader = new Downloader(meta, have, null, options.storage, hooks);
    this.downloader.setPriorities(this.tuning.piecePriorities());
    this.downloader.picker.sequential = options.sequential ?? false;
    this.downloader.setLimit(this.tuning.downloadBudget);
    // Complete for the user when every wanted piece is here, whatever skipped files lack.
    this.lifecycle = new TorrentLifecycle(options.check ? "checking" : options.paused ? "paused" : this.downloader.complete ? "seeding" : "downloading");
    this.uploader = new Uploader(meta, have, options.storage, undefined, this.tuning.uploadBudget, (error) => hooks.storageFailed(error), options.storage);
    this.report = new ProgressReport(meta, have, this.downloader, this.uploader, this.downloader.picker);
    this.tracker = new TrackerAnnouncer(meta, this.host.peerId, hooks, () => this.host.announceScope(), options.handover?.trackersTold);
    const { host, maxPeers, handover } = options;
    this.swarm = new TorrentPeers({ meta, have, host, maxPeers, handover, peers: this.peers, downloader: this.downloader, uploader: this.uploader }, hooks);
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** A check of every piece (a re-check), the one to run from now on. */
  checkEveryPiece(): TorrentCheck {
    return (this.check = new TorrentCheck(this.options, everyPiece, this.hooks));
  }

  /** A check ran to its end: `have` holds what it found, the picker counts again. */
  checked(count: number): void {
    this.check = null;
    this.downloader.haveReplaced();
    this.emit({ event: "checked", checked: count, ...this.totals() });
  }

  /** Downloading or seeding, as the wanted pieces say: piece memory if needed, `started` to the trackers, dials. */
  work(): void {
    const complete = this.downloader.complete;
    const next = complete ? "seeding" : "downloading";
    if (this.lifecycle.state !== next) this.lifecycle.enter(next); // a torrent given no check starts in it
    if (complete) this.seedingClock.start(Date.now());
    else this.fetch();
    this.dht.join(); // before the tracker, whose start may end the torrent (and quiet() leaves the DHT)
    const { announceDelayMs, announce } = this.options;
    if (this.announced) this.tracker.start(this.host.port, this.options.have.isComplete());
    else this.tracker.start(this.host.port, this.options.have.isComplete(), announceDelayMs ?? 0, announce);
    this.announced = true;
    const handover = this.handover;
    this.handover = null;
    for (const peer of handover?.peers ?? []) this.swarm.takeOver(peer);
    this.connectMore();
  }

  /** Whether it announced (and so worked) already this run. */
  get hasWorked(): boolean {
    return this.announced;
  }

  /** Entering `downloading`: piece memory, web seeds, and requests to the peers already there. */
  fetch(): void {
    this.sources ??= new DownloadSources(this.host, this.options.meta, this.options.poolBytes, this.downloader, (e) => this.emit(e));
    this.sources.take();
    this.downloader.fillAll();
  }

  /** Closes every connection, announces `stopped`, waits for pieces being written, gives the memory back. */
  async quiet(): Promise<void> {
    this.swarm.closeAll();
    this.uploader.stop();
    this.sources?.stopWebSeeds();
    this.downloader.abandonAll();
    this.dht.leave();
    await this.tracker.stop();
    await this.downloader.writesSettled();
    this.sources?.giveBackMemory();
  }

  /** Announces `stopped`, closes every connection and the files. Safe to call twice, and in any state. */
  async stop(code: number): Promise<void> {
    if (!this.lifecycle.kept) return;
    this.lifecycle.enter("stopped");
    await this.shutdown(code);
  }

  private async shutdown(code: number): Promise<void> {
    this.check?.abort(); // a check under way (or waiting its turn) ends now
    await this.quiet();
    this.options.storage.close();
    this.emit({ event: "stopped", ...this.totals() });
    this.finish(code);
  }

  fail(code: PeerErrorCode, message: string): void {
    if (!this.lifecycle.kept) return; // the first error says it; writes failing after it would only repeat it
    this.emit({ event: "error", code, message });
    this.lifecycle.enter("error");
    void this.shutdown(exitCodeFor(code));
  }

  totals(): Totals {
    return this.report.totals();
  }

  emit(event: TorrentEvent): void {
    this.options.onEvent(event);
  }

  // ---- finding peers -----------------------------------------------------------------------------------

  peersFound(peers: PeerAddress[]): void {
    for (const p of peers) this.swarm.directory.add(p);
    this.connectMore();
  }

  /** A seeder can wait for peers to come; a downloader that knows none, with no usable web seed and no DHT that may find some, cannot get anywhere. */
  knowsPeers(): boolean {
    return (
      this.options.waitForPeers === true ||
      this.swarm.knownPeerCount() > 0 ||
      this.peers.size > 0 ||
      this.downloader.complete ||
      this.sources?.webSeedUsable === true ||
      this.dht.mayFindPeers()
    );
  }

  private connectMore(): void {
    this.swarm.connectMore();
  }

  // ---- pieces ------------------------------------------------------------------------------------------

  pieceDone(index: number): void {
    this.swarm.announceHave(index);
    if (this.lifecycle.state === "downloading" && this.downloader.complete) {
      this.lifecycle.enter("seeding");
      this.completed();
    } else this.sources?.fill();
  }

  /** Every wanted piece is on disk: at start, or on entering `seeding`. */
  completed(): void {
    this.seedingClock.start(Date.now());
    // Every wanted piece is checked and on disk: the pool and hashing thread have nothing left to do (unless
    // pieces skipped while being checked are still settling; then the memory goes back at the next pause).
    if (!this.downloader.busy) this.sources?.giveBackMemory();
    this.sources?.stopWebSeeds();
    this.emit({ event: "completed", seconds: this.report.elapsedSeconds(), ...this.totals() });
    if (this.options.have.isComplete()) {
      // A seed, not just done with the wanted files.
      if (this.downloader.fetchedPieces > 0) this.tracker.completed();
      this.swarm.closeSeeds();
    }
    if (!this.options.seed) void this.stop(0);
    else this.checkGoals(Date.now());
  }

  /** A seeding goal reached stops the torrent (state `stopped`), after an event saying which. */
  checkGoals(now: number): void {
    if (this.lifecycle.state !== "seeding" || !this.seedingClock.running) return;
    const reached = this.tuning.goalReached(() => ({
      uploaded: this.uploader.uploaded,
      downloaded: this.downloader.downloaded,
      wantedBytes: this.report.wantedBytes(),
      seedingSeconds: this.seedingClock.seconds(now),
    }));
    if (!reached) return;
    this.emit({ event: "goal-reached", ...reached });
    void this.stop(0);
  }

  // ---- timers ------------------------------------------------------------------------------------------

  /** Once a second, from the client's one timer (no timer per torrent: a daemon may hold thousands). */
  tick(): void {
    if (!this.lifecycle.live) return;
    // A seeding torrent with no peer has nothing to do but dial (idle-report.ts).
    const idle = this.lifecycle.state === "seeding" && this.peers.size === 0 && this.swarm.handshakingCount() === 0;
    const now = Date.now();
    // Goals still count while idle: seed time passes, and a peer may have come and gone between ticks.
    if (this.idle.unchanged(idle, this.uploader.uploaded, this.downloader.downloaded)) {
      this.checkGoals(now);
      return this.connectMore();
    }
    this.swarm.tick(now);
    this.checkGoals(now);
    this.downloader.fillAll();
    this.swarm.pexTick(now);
    this.sources?.fill();
    this.connectMore();
    this.emit(this.report.progress(this.peers));
  }
}

const everyPiece = (): boolean => true;
