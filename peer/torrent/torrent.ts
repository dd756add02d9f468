// One torrent of a client, as its owner sees it: the steps of its lifecycle (state.ts), run one after
// another (step-queue.ts): checking what is on disk, working (downloading, seeding), paused, ended; what may
// change while it runs (tuning.ts), and what may be read of it. Its parts and what they do together (the
// data path in Downloader/Uploader, the connections in TorrentPeers, piece memory and web seeds, the
// tracker, the DHT, seeding goals) are TorrentParts (torrent-parts.ts). The client (client/client.ts)
// listens, hands over incoming peers whose handshake names this torrent, ticks it once a second, and lets
// it go while it is dormant (dormancy.ts).
import { toHex } from "../../shared/bytes.ts";
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Handshake } from "../../shared/wire/types.ts";
import type { CloseReason } from "../net/close-reason.ts";
import type { PeerConnection, TorrentAdoption } from "../net/peer-connection.ts";
import type { Totals } from "./events.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { TrackerStatus } from "../tracker/tracker-client.ts";
import { StorageError } from "../storage/errors.ts";
import type { TorrentOptions } from "./options.ts";
import type { FilePriority } from "../pieces/wanted.ts";
import type { SeedingGoals } from "./seeding-goals.ts";
import type { RateLimits, TunedSettings } from "./tuning.ts";
import type { TorrentState } from "./state.ts";
import { webSeedUrls } from "./download-sources.ts";
import { type DormantCarry, isDormant, letGo } from "./dormancy.ts";
import { StepQueue } from "./step-queue.ts";
import { TorrentParts } from "./torrent-parts.ts";
import { noTrackerNoPeer } from "./no-peer.ts";

export type { TorrentOptions, PieceStore } from "./options.ts";

export class Torrent {
  private readonly parts: TorrentParts;
  /** start, pause, resume and recheck run one after another (each awaits connections closing, a check...). */
  private readonly steps = new StepQueue();

  constructor(options: TorrentOptions) {
    this.parts = new TorrentParts(options);
  }

  get state(): TorrentState {
    return this.parts.lifecycle.state;
  }

  /** Its peers (those past their handshake), by connection id. */
  get peers(): Map<number, SwarmPeer> {
    return this.parts.peers;
  }

  /** Resolves when the torrent ends: download complete without --seed, stop(), or a fatal error. */
  get finished(): Promise<number> {
    return this.parts.finished;
  }

  // ---- what may change while it runs (tuning.ts) -------------------------------------------------------

  /** One priority per file. Un-skipping resumes fetching; skipping everything left completes the torrent. Throws RangeError. */
  setFilePriorities(priorities: readonly FilePriority[]): void {
    const { lifecycle, tuning, downloader, options, seedingClock } = this.parts;
    if (!lifecycle.kept) return;
    try {
      tuning.setFilePriorities(priorities, options.storage, downloader);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      return this.parts.fail(error.code, error.message);
    }
    // Paused or checking: work() decides from the wanted pieces when it resumes.
    if (lifecycle.state === "seeding" && !downloader.complete) {
      seedingClock.stop(Date.now());
      lifecycle.enter("downloading");
      this.parts.fetch();
    } else if (lifecycle.state === "downloading" && downloader.complete) {
      lifecycle.enter("seeding");
      this.parts.completed();
    }
  }

  /** What the setters here set, as it stands. */
  get tuned(): TunedSettings {
    const { filePriorities, rateLimits, goals } = this.parts.tuning;
    return { filePriorities, sequential: this.parts.downloader.picker.sequential, rateLimits, maxPeers: this.parts.swarm.maxPeers, goals };
  }

  setSequential(on: boolean): void {
    this.parts.downloader.picker.sequential = on;
  }

  /** Bytes per second (null: none), drawn together with the client's global limits. Throws RangeError. */
  setRateLimits(limits: Partial<RateLimits>): void {
    this.parts.tuning.setRateLimits(limits);
    this.parts.downloader.fillAll(); // a raised limit is used at once
  }

  /** This torrent's peer slots; above it, peers with nothing to trade go first. Throws RangeError. */
  setMaxPeers(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`max peers must be a whole number ≥ 1, got ${n}`);
    this.parts.swarm.setMaxPeers(n);
  }

  /** Throws RangeError for a negative or non-numeric goal. */
  setSeedingGoals(goals: Partial<SeedingGoals>): void {
    this.parts.tuning.setGoals(goals);
    this.parts.checkGoals(Date.now());
  }

  // ---- read-only views (the daemon's API shows them) ---------------------------------------------------

  /** The pieces we have (verified and on disk); read-only for callers. */
  get have(): Bitfield {
    return this.parts.options.have;
  }

  get meta(): Metainfo {
    return this.parts.options.meta;
  }

  get maxPeers(): number {
    return this.parts.swarm.maxPeers;
  }

  get uploadLimit(): number | null {
    return this.parts.tuning.upload.rate;
  }

  /** Each tracker's last outcome, and when the next announce is due. */
  trackers(): { list: TrackerStatus[]; nextAnnounceAt: number | null; failures: number } {
    const { tracker } = this.parts;
    return { list: tracker.status(), nextAnnounceAt: tracker.nextAnnounceAt, failures: tracker.failures };
  }

  totals(): Totals {
    return this.parts.totals();
  }

  // ---- the lifecycle's steps ---------------------------------------------------------------------------

  /**
   * Checks what `check` names (if anything), says `started`, then announces and dials (or stays paused);
   * the client must be listening already (its port goes to the tracker).
   */
  start(): void {
    const p = this.parts;
    void this.steps.run(async () => {
      let checked = 0;
      if (p.lifecycle.state === "checking" && p.check) {
        checked = await p.check.run();
        if (!p.lifecycle.kept) return; // stopped, or failed, meanwhile
        if (p.check === null) p.report.startChecked(); // else paused during it: resume() checks again
      }
      const { meta, have } = p.options;
      if (p.options.mustBeComplete && p.check === null && !have.isComplete()) {
        return p.fail("incomplete-data", p.options.mustBeComplete(meta.pieceCount - have.count()));
      }
      for (const peer of p.options.peers) p.swarm.directory.add(peer);
      p.emit({
        event: "started",
        name: meta.name,
        infoHash: toHex(meta.infoHash),
        length: meta.length,
        port: p.host.port,
        seeding: p.downloader.complete,
        uploadLimit: p.tuning.upload.rate,
        downloadLimit: p.tuning.download.rate,
        webSeeds: p.downloader.complete ? [] : webSeedUrls(meta),
        checked,
        ...p.totals(),
      });
      if (p.options.paused || p.lifecycle.state === "paused") {
        if (p.lifecycle.state === "checking") p.lifecycle.enter("paused");
        p.emit({ event: "paused", ...p.totals() });
        return;
      }
      p.work();
      if (p.downloader.complete) p.completed();
    });
  }

  /**
   * Closes every connection and announces `stopped`, keeping the torrent; resume() carries on. A check
   * under way stops at once (its step says `paused`), rather than when it is done: resume() checks again.
   */
  pause(): Promise<void> {
    const p = this.parts;
    if (p.lifecycle.state === "checking") {
      p.lifecycle.enter("paused");
      p.check?.abort();
    }
    return this.steps.run(async () => {
      if (!p.lifecycle.live) return;
      p.seedingClock.stop(Date.now());
      p.lifecycle.enter("paused");
      await p.quiet();
      if (p.lifecycle.state === "paused") p.emit({ event: "paused", ...p.totals() });
    });
  }

  /** Announces `started` again and dials; first checks again what a pause cut short. */
  resume(): Promise<void> {
    const p = this.parts;
    return this.steps.run(async () => {
      if (p.lifecycle.state !== "paused") return;
      p.emit({ event: "resumed", ...p.totals() });
      if (p.check) {
        p.lifecycle.enter("checking");
        await p.check.run();
        if (!this.checkEnded()) return;
        if (!p.hasWorked) p.report.startChecked(); // it never worked: the check at start, done now
      }
      p.work();
    });
  }

  /** Hashes every piece again (state `checking`, no peers meanwhile), then goes back to what it was doing. */
  recheck(): Promise<void> {
    const p = this.parts;
    return this.steps.run(async () => {
      const was = p.lifecycle.state;
      if (!p.lifecycle.live && was !== "paused") return;
      p.seedingClock.stop(Date.now());
      p.lifecycle.enter("checking");
      const check = p.checkEveryPiece();
      if (was !== "paused") await p.quiet();
      if (p.lifecycle.state === "checking") await check.run();
      if (!this.checkEnded()) return;
      if (was === "paused") p.lifecycle.enter("paused");
      else p.work();
    });
  }

  /** After a check: true when it ran to its end. A pause cut it short: said here, as pause() found nothing to close. */
  private checkEnded(): boolean {
    const p = this.parts;
    if (p.lifecycle.state === "checking") return true;
    if (p.lifecycle.state === "paused") p.emit({ event: "paused", ...p.totals() });
    return false;
  }

  /** Its trackers changed (BEP 12 tiers): announced to from now on, at once while it works (TrackerAnnouncer). */
  setTrackers(tiers: string[][]): void {
    this.parts.tracker.setTrackers(tiers);
  }

  /**
   * Asks the trackers for peers now rather than at their interval. A step: a torrent woken from dormancy is
   * live at once, but its announcer starts in its start step (a reannounce before it was lost).
   */
  reannounce(): void {
    const p = this.parts;
    if (!p.lifecycle.live) return;
    void this.steps.run(async () => {
      if (p.lifecycle.live) p.tracker.reannounce();
    });
  }

  /** Announces `stopped`, closes every connection and the files. Safe to call twice, and in any state. */
  stop(code = 0): Promise<void> {
    return this.parts.stop(code);
  }

  // ---- dormancy (dormancy.ts) --------------------------------------------------------------------------

  /** Seeding with nothing to do until a peer comes: a daemon may let it go. */
  get dormant(): boolean {
    const { lifecycle, swarm, tracker, dht, tuning, downloader } = this.parts;
    return isDormant(lifecycle, this.steps.pending, swarm, tracker, dht, tuning.goals, downloader);
  }

  /** Lets a dormant torrent go: its trackers' announcing and its DHT registration are handed over. */
  release(): DormantCarry {
    const { lifecycle, tracker, dht, options } = this.parts;
    return letGo(lifecycle, tracker, dht, options.storage);
  }

  /** Made again from dormant (Client.wake): the DHT registration the client kept for it is its own. */
  holdDht(): void {
    this.parts.dht.hold();
  }

  // ---- what the client tells it ------------------------------------------------------------------------

  /** The client's DHT came on: a working torrent joins it now (others join when they start working). */
  dhtEnabled(): void {
    if (this.parts.lifecycle.live) this.parts.dht.join();
  }

  /** The DHT's join found no node: a download relying on it, with no other way to find a peer, ends. */
  peerSourcesChanged(): void {
    const p = this.parts;
    if (!p.dht.joined || p.lifecycle.state !== "downloading" || p.tracker.mayFindPeers() || p.knowsPeers()) return;
    p.fail("tracker-unreachable", noTrackerNoPeer("the torrent"));
  }

  /** Connections this torrent holds: its peers and its dials still handshaking. */
  connectionCount(): number {
    return this.parts.swarm.connectionCount();
  }

  /** An incoming connection whose handshake named this torrent (routed by the client). */
  adopt(conn: PeerConnection, handshake: Handshake): CloseReason | TorrentAdoption {
    return this.parts.swarm.adopt(conn, handshake);
  }

  /** Once a second, from the client's one timer (no timer per torrent: a daemon may hold thousands). */
  tick(): void {
    this.parts.tick();
  }
}
