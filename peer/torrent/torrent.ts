// One torrent of a client: ties storage, the piece pool, picker, peer connections and the tracker client
// together, and reports what happens as TorrentEvents. The data path lives in Downloader/Uploader, the
// connections in TorrentPeers (torrent-peers.ts); this file is about the torrent's lifecycle (state.ts):
// checking what is on disk, working (downloading, seeding), paused, ended; and what each step starts and
// stops: piece memory and web seeds (download-sources.ts), the tracker, the DHT (torrent-dht.ts), seeding goals. The client
// (client/client.ts) listens, hands over incoming peers whose handshake names this torrent, ticks it
// once a second, and lets it go while it is dormant (dormancy.ts).
import { toHex } from "../../shared/bytes.ts";
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { Handshake } from "../../shared/wire/types.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import type { CloseReason } from "../net/close-reason.ts";
import type { PeerConnection, TorrentAdoption } from "../net/peer-connection.ts";
import { Downloader, type DownloaderHooks } from "../pieces/downloader.ts";
import type { TorrentEvent, Totals } from "./events.ts";
import { exitCodeFor, type PeerErrorCode } from "./exit-codes.ts";
import { ProgressReport } from "./progress-report.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import { TrackerAnnouncer, type AnnouncerHooks } from "../tracker/tracker-announcer.ts";
import type { AnnounceStats, TrackerStatus } from "../tracker/tracker-client.ts";
import { StorageError } from "../storage/errors.ts";
import { TorrentCheck, type TorrentCheckHooks } from "./check.ts";
import { Uploader } from "../upload/uploader.ts";
import type { Handover, TorrentOptions } from "./options.ts";
import type { FilePriority } from "../pieces/wanted.ts";
import type { SeedingGoals } from "./seeding-goals.ts";
import { TorrentTuning, type RateLimits, type TunedSettings } from "./tuning.ts";
import { TorrentLifecycle, type TorrentState } from "./state.ts";
import { TorrentDhtLink, type TorrentDhtHooks } from "./torrent-dht.ts";
import { TorrentPeers, type TorrentPeersHooks } from "./torrent-peers.ts";
import { SeedingClock } from "./seeding-clock.ts";
import { DownloadSources, webSeedUrls } from "./download-sources.ts";
import { IdleReport } from "./idle-report.ts";
import { type DormantCarry, isDormant, letGo } from "./dormancy.ts";

export type { TorrentOptions, PieceStore } from "./options.ts";

export class Torrent {
  readonly peers = new Map<number, SwarmPeer>();
  /** Its connections: dialing, admitting, their messages (torrent-peers.ts). */
  private readonly swarm: TorrentPeers;
  private readonly downloader: Downloader;
  private readonly uploader: Uploader;
  private readonly tracker: TrackerAnnouncer;
  private readonly dht: TorrentDhtLink;
  /** A magnet link's open peers, taken over when the torrent first starts working. */
  private handover: Handover | null;
  /**
   * The check to run before `have` is trusted (at start, or a re-check) until one run goes to its end: a
   * pause or the end aborts it at once, resume() runs it again. Null once done, so an idle torrent holds none.
   */
  private check: TorrentCheck | null;
  private readonly hooks: InstanceType<typeof Torrent.Hooks>;
  /** Announced once already: later starts (resume, after a re-check) announce at once. */
  private announced = false;
  /** Idle ticks (seeding, no peer) stay quiet while the totals last reported hold. */
  private readonly idle = new IdleReport();
  private readonly report: ProgressReport;
  /** Piece memory and web seeds: made the first time it downloads (a torrent started complete never does). */
  private sources: DownloadSources | null = null;
  private readonly lifecycle: TorrentLifecycle;
  /** Wanted files, sequential order, rate limits, seeding goals: what may change while it runs. */
  private readonly tuning: TorrentTuning;
  /** Time seeded this run, for the seed-time goal. */
  private readonly seedingClock = new SeedingClock();
  private readonly host: TorrentHost;
  /** start, pause, resume and recheck run one after another (each awaits connections closing, a check...). */
  private queue: Promise<void> = Promise.resolve();
  /** Steps queued or under way there. */
  private steps = 0;
  /** Resolves when the torrent ends: download complete without --seed, stop(), or a fatal error. */
  readonly finished: Promise<number>;
  private finish!: (code: number) => void;

  /**
   * What the torrent's parts call back (the DHT link, downloader, tracker, connections): one object of
   * methods, not a closure per callback, as a daemon holds thousands of torrents. Nested to reach the
   * torrent's private steps.
   */
  private static readonly Hooks = class implements TorrentDhtHooks, DownloaderHooks, AnnouncerHooks, TorrentPeersHooks, TorrentCheckHooks {
    constructor(private readonly t: Torrent) {}
    peersFound(peers: PeerAddress[]): void {
      this.t.peersFound(peers);
    }
    emit(event: TorrentEvent): void {
      this.t.emit(event);
    }
    wantsPeers(): boolean {
      return this.t.lifecycle.state === "downloading" && this.t.peers.size === 0;
    }
    peers(): Iterable<SwarmPeer> {
      return this.t.peers.values();
    }
    pieceDone(index: number): void {
      this.t.pieceDone(index);
    }
    pieceFailed(index: number, senders: SwarmPeer[], parole: boolean): void {
      this.t.emit({ event: "piece-failed", index, peers: senders.map((p) => p.label), parole });
    }
    ban(peer: SwarmPeer, reason: string): void {
      this.t.swarm.gate.ban(peer, reason);
    }
    writeFailed(error: unknown): void {
      this.storageFailed(error);
    }
    storageFailed(error: unknown): void {
      if (!(error instanceof StorageError)) throw error; // a bug, not a disk's trouble
      this.t.fail(error.code, error.message);
    }
    stats(): AnnounceStats {
      return { uploaded: this.t.uploader.uploaded, downloaded: this.t.downloader.downloaded, left: this.t.report.bytesLeft() };
    }
    knowsPeers(): boolean {
      return this.t.knowsPeers();
    }
    fatal(code: PeerErrorCode, message: string): void {
      this.t.fail(code, message);
    }
    live(): boolean {
      return this.t.lifecycle.live;
    }
    dhtPort(): number | undefined {
      return this.t.dht.port();
    }
    portMessage(ip: string, port: number): void {
      this.t.dht.portMessage(ip, port);
    }
    stillChecking(): boolean {
      return this.t.lifecycle.state === "checking";
    }
    checked(count: number): void {
      this.t.checked(count);
    }
  };

  constructor(private readonly options: TorrentOptions) {
    const { meta, have } = options;
    const hooks = (this.hooks = new Torrent.Hooks(this));
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
    this.tracker = new TrackerAnnouncer(meta, this.host.peerId, hooks);
    const { host, maxPeers, handover } = options;
    this.swarm = new TorrentPeers({ meta, have, host, maxPeers, handover, peers: this.peers, downloader: this.downloader, uploader: this.uploader }, hooks);
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  get state(): TorrentState {
    return this.lifecycle.state;
  }

  // ---- what may change while it runs (tuning.ts) -------------------------------------------------------

  /** One priority per file. Un-skipping resumes fetching; skipping everything left completes the torrent. Throws RangeError. */
  setFilePriorities(priorities: readonly FilePriority[]): void {
    if (!this.lifecycle.kept) return;
    try {
      this.tuning.setFilePriorities(priorities, this.options.storage, this.downloader);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      return this.fail(error.code, error.message);
    }
    // Paused or checking: work() decides from the wanted pieces when it resumes.
    if (this.lifecycle.state === "seeding" && !this.downloader.complete) {
      this.seedingClock.stop(Date.now());
      this.lifecycle.enter("downloading");
      this.fetch();
    } else if (this.lifecycle.state === "downloading" && this.downloader.complete) {
      this.lifecycle.enter("seeding");
      this.completed();
    }
  }

  /** What the setters here set, as it stands. */
  get tuned(): TunedSettings {
    const { filePriorities, rateLimits, goals } = this.tuning;
    return { filePriorities, sequential: this.downloader.picker.sequential, rateLimits, maxPeers: this.swarm.maxPeers, goals };
  }

  setSequential(on: boolean): void {
    this.downloader.picker.sequential = on;
  }

  /** Bytes per second (null: none), drawn together with the client's global limits. Throws RangeError. */
  setRateLimits(limits: Partial<RateLimits>): void {
    this.tuning.setRateLimits(limits);
    this.downloader.fillAll(); // a raised limit is used at once
  }

  /** This torrent's peer slots; above it, peers with nothing to trade go first. Throws RangeError. */
  setMaxPeers(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`max peers must be a whole number ≥ 1, got ${n}`);
    this.swarm.setMaxPeers(n);
  }

  /** Throws RangeError for a negative or non-numeric goal. */
  setSeedingGoals(goals: Partial<SeedingGoals>): void {
    this.tuning.setGoals(goals);
    this.checkGoals(Date.now());
  }

  // ---- read-only views (the daemon's API shows them) ---------------------------------------------------

  /** The pieces we have (verified and on disk); read-only for callers. */
  get have(): Bitfield {
    return this.options.have;
  }

  get meta(): Metainfo {
    return this.options.meta;
  }

  get maxPeers(): number {
    return this.swarm.maxPeers;
  }

  get uploadLimit(): number | null {
    return this.tuning.upload.rate;
  }

  /** Each tracker's last outcome, and when the next announce is due. */
  trackers(): { list: TrackerStatus[]; nextAnnounceAt: number | null; failures: number } {
    return { list: this.tracker.status(), nextAnnounceAt: this.tracker.nextAnnounceAt, failures: this.tracker.failures };
  }

  /**
   * Checks what `check` names (if anything), says `started`, then announces and dials (or stays paused);
   * the client must be listening already (its port goes to the tracker).
   */
  start(): void {
    void this.serially(async () => {
      let checked = 0;
      if (this.lifecycle.state === "checking" && this.check) {
        checked = await this.check.run();
        if (!this.lifecycle.kept) return; // stopped, or failed, meanwhile
        if (this.check === null) this.report.startChecked(); // else paused during it: resume() checks again
      }
      const { meta, have } = this.options;
      if (this.options.mustBeComplete && this.check === null && !have.isComplete()) {
        return this.fail("incomplete-data", this.options.mustBeComplete(meta.pieceCount - have.count()));
      }
      for (const p of this.options.peers) this.swarm.directory.add(p);
      this.emit({
        event: "started",
        name: meta.name,
        infoHash: toHex(meta.infoHash),
        length: meta.length,
        port: this.host.port,
        seeding: this.downloader.complete,
        uploadLimit: this.tuning.upload.rate,
        downloadLimit: this.tuning.download.rate,
        webSeeds: this.downloader.complete ? [] : webSeedUrls(meta),
        checked,
        ...this.totals(),
      });
      if (this.options.paused || this.lifecycle.state === "paused") {
        if (this.lifecycle.state === "checking") this.lifecycle.enter("paused");
        this.emit({ event: "paused", ...this.totals() });
        return;
      }
      this.work();
      if (this.downloader.complete) this.completed();
    });
  }

  /**
   * Closes every connection and announces `stopped`, keeping the torrent; resume() carries on. A check
   * under way stops at once (its step says `paused`), rather than when it is done: resume() checks again.
   */
  pause(): Promise<void> {
    if (this.lifecycle.state === "checking") {
      this.lifecycle.enter("paused");
      this.check?.abort();
    }
    return this.serially(async () => {
      if (!this.lifecycle.live) return;
      this.seedingClock.stop(Date.now());
      this.lifecycle.enter("paused");
      await this.quiet();
      if (this.lifecycle.state === "paused") this.emit({ event: "paused", ...this.totals() });
    });
  }

  /** Announces `started` again and dials; first checks again what a pause cut short. */
  resume(): Promise<void> {
    return this.serially(async () => {
      if (this.lifecycle.state !== "paused") return;
      this.emit({ event: "resumed", ...this.totals() });
      if (this.check) {
        this.lifecycle.enter("checking");
        await this.check.run();
        if (!this.checkEnded()) return;
        if (!this.announced) this.report.startChecked(); // it never worked: the check at start, done now
      }
      this.work();
    });
  }

  /** Hashes every piece again (state `checking`, no peers meanwhile), then goes back to what it was doing. */
  recheck(): Promise<void> {
    return this.serially(async () => {
      const was = this.lifecycle.state;
      if (!this.lifecycle.live && was !== "paused") return;
      this.seedingClock.stop(Date.now());
      this.lifecycle.enter("checking");
      const check = (this.check = new TorrentCheck(this.options, everyPiece, this.hooks));
      if (was !== "paused") await this.quiet();
      if (this.lifecycle.state === "checking") await check.run();
      if (!this.checkEnded()) return;
      if (was === "paused") this.lifecycle.enter("paused");
      else this.work();
    });
  }

  /** Asks the trackers for peers now rather than at their interval. */
  reannounce(): void {
    if (this.lifecycle.live) this.tracker.reannounce();
  }

  /** Announces `stopped`, closes every connection and the files. Safe to call twice, and in any state. */
  async stop(code = 0): Promise<void> {
    if (!this.lifecycle.kept) return;
    this.lifecycle.enter("stopped");
    await this.shutdown(code);
  }

  private serially(step: () => Promise<void>): Promise<void> {
    this.steps++;
    const next = this.queue.then(step).finally(() => this.steps--);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Seeding with nothing to do until a peer comes: a daemon may let it go (dormancy.ts). */
  get dormant(): boolean {
    return isDormant(this.lifecycle, this.steps, this.swarm, this.tracker, this.dht, this.tuning.goals, this.downloader);
  }

  /** Lets a dormant torrent go (dormancy.ts): its trackers' announcing and its DHT registration are handed over. */
  release(): DormantCarry {
    return letGo(this.lifecycle, this.tracker, this.dht, this.options.storage);
  }

  /** Made again from dormant (Client.wake): the DHT registration the client kept for it is its own. */
  holdDht(): void {
    this.dht.hold();
  }

  /** A check ran to its end: `have` holds what it found, the picker counts again. */
  private checked(count: number): void {
    this.check = null;
    this.downloader.haveReplaced();
    this.emit({ event: "checked", checked: count, ...this.totals() });
  }

  /** After a check: true when it ran to its end. A pause cut it short: said here, as pause() found nothing to close. */
  private checkEnded(): boolean {
    if (this.lifecycle.state === "checking") return true;
    if (this.lifecycle.state === "paused") this.emit({ event: "paused", ...this.totals() });
    return false;
  }

  /** Downloading or seeding, as the wanted pieces say: piece memory if needed, `started` to the trackers, dials. */
  private work(): void {
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

  /** Entering `downloading`: piece memory, web seeds, and requests to the peers already there. */
  private fetch(): void {
    this.sources ??= new DownloadSources(this.host, this.options.meta, this.options.poolBytes, this.downloader, (e) => this.emit(e));
    this.sources.take();
    this.downloader.fillAll();
  }

  /** Closes every connection, announces `stopped`, waits for pieces being written, gives the memory back. */
  private async quiet(): Promise<void> {
    this.swarm.closeAll();
    this.uploader.stop();
    this.sources?.stopWebSeeds();
    this.downloader.abandonAll();
    this.dht.leave();
    await this.tracker.stop();
    await this.downloader.writesSettled();
    this.sources?.giveBackMemory();
  }

  private async shutdown(code: number): Promise<void> {
    this.check?.abort(); // a check under way (or waiting its turn) ends now
    await this.quiet();
    this.options.storage.close();
    this.emit({ event: "stopped", ...this.totals() });
    this.finish(code);
  }

  private fail(code: PeerErrorCode, message: string): void {
    if (!this.lifecycle.kept) return; // the first error says it; writes failing after it would only repeat it
    this.emit({ event: "error", code, message });
    this.lifecycle.enter("error");
    void this.shutdown(exitCodeFor(code));
  }

  totals(): Totals {
    return this.report.totals();
  }

  private emit(event: TorrentEvent): void {
    this.options.onEvent(event);
  }

  // ---- finding peers -----------------------------------------------------------------------------------

  private peersFound(peers: PeerAddress[]): void {
    for (const p of peers) this.swarm.directory.add(p);
    this.connectMore();
  }

  /** A seeder can wait for peers to come; a downloader that knows none, with no usable web seed and no DHT that may find some, cannot get anywhere. */
  private knowsPeers(): boolean {
    return (
      this.options.waitForPeers === true ||
      this.swarm.knownPeerCount() > 0 ||
      this.peers.size > 0 ||
      this.downloader.complete ||
      this.sources?.webSeedUsable === true ||
      this.dht.mayFindPeers()
    );
  }

  /** The client's DHT came on: a working torrent joins it now (others join when they start working). */
  dhtEnabled(): void {
    if (this.lifecycle.live) this.dht.join();
  }

  /** The DHT's join found no node: a download relying on it, with no other way to find a peer, ends. */
  peerSourcesChanged(): void {
    if (!this.dht.joined || this.lifecycle.state !== "downloading" || this.tracker.mayFindPeers() || this.knowsPeers()) return;
    this.fail("tracker-unreachable", "no usable tracker in the torrent, no --peer given, and no DHT node answered");
  }

  // ---- connections -------------------------------------------------------------------------------------

  /** Connections this torrent holds: its peers and its dials still handshaking. */
  connectionCount(): number {
    return this.swarm.connectionCount();
  }

  private connectMore(): void {
    this.swarm.connectMore();
  }

  /** An incoming connection whose handshake named this torrent (routed by the client). */
  adopt(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    return this.swarm.adopt(conn, handshake);
  }

  // ---- pieces ------------------------------------------------------------------------------------------

  private pieceDone(index: number): void {
    this.swarm.announceHave(index);
    if (this.lifecycle.state === "downloading" && this.downloader.complete) {
      this.lifecycle.enter("seeding");
      this.completed();
    } else this.sources?.fill();
  }

  /** Every wanted piece is on disk: at start, or on entering `seeding`. */
  private completed(): void {
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
  private checkGoals(now: number): void {
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
