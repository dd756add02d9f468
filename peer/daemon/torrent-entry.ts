// One torrent of the daemon: its stored record, the running Torrent (none while it is in `error` before a
// retry, or dormant), and what ties the two together: the resume plan at start (what a restart may trust
// unhashed, see resume-plan.ts), the ResumeWriter's marks, the stored state, and totals over the torrent's life.
//
// Dormant: a seeding torrent with nothing to do (Torrent.dormant: no peer, no announce under way, no goal
// on a clock) is let go once it has started or gone idle. The entry then keeps its record and a few facts for
// the lists, not its Metainfo (piece hashes, file list) nor any part of a Torrent: a daemon seeding
// thousands holds little for each. The client keeps its info hash; a peer's handshake naming it, or a
// request that needs the torrent (pause, recheck, settings), makes it again from the stored metainfo and
// the pieces it had, without a check or a `started` of its own.
import { toHex } from "../../shared/bytes.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Client, DormantTorrent, TorrentSettings } from "../client/client.ts";
import { StorageError, type TorrentStorage } from "../storage/index.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { Torrent } from "../torrent/torrent.ts";
import { planResume } from "./resume-plan.ts";
import { openStorage, stampsOf, torrentSettingsOf, wantedFilesChanged, writerLayoutOf } from "./entry-settings.ts";
import {
  bytesOf,
  type ByteTotals,
  type EntryFacts,
  factsOf,
  keptBytes,
  NO_BYTES,
  NO_RUN,
  type Planned,
  recheckOf,
  type RunTotals,
  UNWRITTEN,
} from "./entry-facts.ts";
import { dormantStartEvents, type StoredStart, startsDormant } from "./dormant-start.ts";
import { firstCarry } from "../tracker/tracker-announcer.ts";
import type { ResumeWriter, WriterLayout } from "./resume-writer.ts";
import type { StateStore, TorrentRecord } from "./state-store.ts";
import { goalsOf, prioritiesOf, type StoredOptions } from "./torrent-settings.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";

export type { StoredOptions } from "./torrent-settings.ts";

export interface EntryContext {
  readonly client: Client;
  readonly store: StateStore;
  readonly writer: ResumeWriter;
  /** Pool bytes a downloading torrent asks of the client's budget. */
  readonly poolBytes: number;
  /** Peer slots of a torrent that names none. */
  readonly maxPeers: number;
  emit(event: TorrentEvent, entry: { readonly infoHash: string }): void;
  /** The entry's torrent went dormant (dormant-collection.ts). */
  rested(): void;
  log(line: string): void;
}

/** What an entry keeps of its stored record: the .torrent's bytes were parsed into `meta` and are not held again. */
export type EntryRecord = Omit<TorrentRecord, "metainfo">;
export type { EntryFacts } from "./entry-facts.ts";

/** A record's options when it has none: one for all (options are replaced, never changed in place). */
const NO_OPTIONS: EntryRecord["options"] = Object.freeze({});

export class TorrentEntry {
  readonly infoHash: string;
  /** Null when its storage could not be opened (`error`), or while dormant; a torrent that failed later stays, in state `error`. */
  torrent: Torrent | null = null;
  /** The message of the error that ended it, null otherwise. */
  error: string | null = null;
  /** Pieces hashed when it last started (the rest trusted from resume data, or known missing). */
  checkedAtStart = 0;
  /** Let go while it had nothing to do (see above); its pieces are `dormantHave` (null: all of them). */
  private asleep = false;
  private dormantHave: Bitfield | null = null;
  /** A dormant torrent made again: its start's `started` and `completed` are not news. */
  private waking = false;
  /** Uploaded and downloaded bytes of earlier runs (from the resume data). */
  private base: ByteTotals = NO_BYTES;
  /** This run's torrents let go while dormant. */
  private slept: RunTotals = NO_RUN;
  private lastTotals: ByteTotals = UNWRITTEN;
  private tracked = false;
  /** The pieces the torrent has (the Bitfield its settings gave it), for the resume writer. */
  private have: Bitfield | null = null;
  /** Null while dormant (read again from the state when needed). */
  private current: Metainfo | null;
  private writerLayout: WriterLayout | null = null;
  facts: EntryFacts;
  record: EntryRecord;

  constructor(
    private readonly ctx: EntryContext,
    meta: Metainfo,
    record: TorrentRecord,
  ) {
    const { metainfo: _bytes, ...kept } = record;
    this.record = Object.keys(kept.options).length === 0 ? { ...kept, options: NO_OPTIONS } : kept;
    this.current = meta;
    this.infoHash = toHex(meta.infoHash);
    this.layout(); // StorageError for a path that would leave the save path
    this.facts = factsOf(meta, this.options);
  }

  /** The torrent's metainfo: read again from the state (and parsed) while it is dormant. */
  get meta(): Metainfo {
    if (this.current) return this.current;
    const record = this.ctx.store.getTorrent(this.record.infoHash);
    if (!record) throw new Error(`torrent ${this.infoHash} is not in the state`);
    return parseMetainfo(record.metainfo);
  }

  get dormant(): boolean {
    return this.asleep;
  }

  /** Its trackers' last outcomes: the running torrent's, or those of its announces while dormant. */
  trackers(): ReturnType<Torrent["trackers"]> | null {
    if (this.torrent) return this.torrent.trackers();
    return this.asleep ? this.ctx.client.dormantTrackers(this.infoHash) : null;
  }

  /** The pieces it has: the running torrent's, or those it had when it went dormant; null in `error`. */
  get pieces(): Bitfield | null {
    if (this.torrent) return this.torrent.have;
    if (!this.asleep) return null;
    return this.dormantHave ?? Bitfield.full(this.facts.pieceCount);
  }

  /** Peer slots: its own setting, or the daemon's default. */
  get maxPeers(): number {
    return this.options.maxPeers ?? this.ctx.maxPeers;
  }

  get options(): StoredOptions {
    return this.record.options as StoredOptions;
  }

  /** New settings (checked by torrent-settings.ts): kept in the record and the store. */
  setOptions(options: StoredOptions): void {
    const stored = options as unknown as EntryRecord["options"];
    this.record = { ...this.record, options: stored };
    this.ctx.store.setOptions(this.record.infoHash, stored);
    this.facts = factsOf(this.meta, this.options);
  }

  /** Life totals: earlier runs plus this one. */
  totals(): { uploaded: number; downloaded: number } {
    const run = this.runTotals();
    return { uploaded: this.base.uploaded + run.uploaded, downloaded: this.base.downloaded + run.downloaded };
  }

  /** This run's totals, over the torrents it was made again as. */
  runTotals(): RunTotals {
    const now = this.torrent?.totals();
    const { uploaded, downloaded, failedPieces } = this.slept;
    return {
      uploaded: uploaded + (now?.uploaded ?? 0),
      downloaded: downloaded + (now?.downloaded ?? 0),
      failedPieces: failedPieces + (now?.failedPieces ?? 0),
    };
  }

  /**
   * Builds the Torrent from the resume plan and starts it (checking first what the plan cannot trust).
   * `sameRun`: made again in this run (woken), its totals of the run go on.
   */
  open(announceDelayMs = 0, sameRun = false, planned?: Planned): void {
    const settings = this.settings(announceDelayMs, sameRun, planned);
    if (!settings) return;
    this.attach(this.ctx.client.addTorrent(settings));
    this.torrent!.start();
  }

  /** The torrent a magnet link's metadata made (the client started it, with `settings()`'s settings). */
  attach(torrent: Torrent): void {
    this.torrent = torrent;
  }

  /** The running torrent, made again first if it is dormant; null in `error`. */
  awake(): Torrent | null {
    if (this.asleep) this.ctx.client.wake(this.infoHash);
    return this.torrent;
  }

  /**
   * The client's DormantTorrent: makes the torrent again from the stored metainfo and the pieces it had,
   * and starts it quietly, serving at once (no check) when its wanted files are as the state stamped them.
   * A file changed or gone meanwhile is found as a restart finds it: the torrent checks what the resume
   * plan cannot trust first. Null if its storage cannot be opened.
   */
  wake(woken: Parameters<DormantTorrent["wake"]>[0]): Torrent | null {
    const meta = this.meta;
    const have = this.dormantHave ?? Bitfield.full(meta.pieceCount);
    this.asleep = false;
    this.dormantHave = null;
    this.current = meta;
    this.waking = true;
    // Not written yet, its stamps are the writer's to take: nothing could have changed since it went dormant.
    if (!this.ctx.writer.tracks(meta.infoHash) && wantedFilesChanged(meta, this.layout(), this.ctx.store.getResume(meta.infoHash), this.options)) {
      this.tracked = false; // its `checked` tracks it anew
      const settings = this.settings(0, true);
      if (!settings) return null;
      this.attach(this.ctx.client.addTorrent({ ...settings, ...woken, announce: woken.announce ?? undefined }));
      this.torrent!.start();
      return this.torrent;
    }
    const storage = this.openStorage(meta);
    if (!storage) return null;
    this.have = have;
    const settings = this.torrentSettings(meta, storage, have, undefined, 0);
    const torrent = this.ctx.client.addTorrent({ ...settings, peers: woken.peers, announce: woken.announce ?? undefined });
    this.torrent = torrent;
    this.ctx.writer.track(meta.infoHash, this.layout(), { bitfield: have, ...this.totals() }, true);
    torrent.start();
    return torrent;
  }

  /** The client announced for it while dormant: its listeners hear of it as from a running torrent. */
  announced(event: TorrentEvent): void {
    this.ctx.emit(event, this);
  }

  /** Lets the torrent go if it is dormant (the client keeps its info hash), keeping what the lists show. */
  private sleep(): void {
    const torrent = this.torrent;
    if (!torrent || !this.tracked || !this.ctx.client.sleep(torrent, this)) return;
    const totals = this.totals();
    const run = this.runTotals();
    this.slept = run.uploaded === 0 && run.downloaded === 0 && run.failedPieces === 0 ? NO_RUN : run;
    if (totals.uploaded !== this.lastTotals.uploaded || totals.downloaded !== this.lastTotals.downloaded) {
      this.lastTotals = keptBytes(totals);
      this.ctx.writer.setTotals(this.record.infoHash, totals.uploaded, totals.downloaded);
    }
    this.dormantHave = torrent.have.isComplete() ? null : torrent.have;
    this.asleep = true;
    this.torrent = null;
    this.have = null;
    this.current = null;
    this.writerLayout = null;
    this.ctx.writer.release(this.record.infoHash);
    this.ctx.rested();
  }

  private layout(): WriterLayout {
    if (this.writerLayout) return this.writerLayout;
    const layout = writerLayoutOf(this.meta, this.record.savePath); // StorageError for a path that would leave the save path
    if (this.current) this.writerLayout = layout;
    return layout;
  }

  /**
   * The Torrent's settings from the resume plan, or null when its storage cannot be opened (`error`).
   * File stamps are read before the storage opens, since opening creates missing files.
   */
  settings(announceDelayMs = 0, sameRun = false, planned?: Planned): TorrentSettings | null {
    const { meta } = this;
    this.asleep = false;
    this.current = meta;
    const { resume, plan } = planned ?? this.plan(meta);
    if (!sameRun) {
      this.base = bytesOf(resume);
      this.slept = NO_RUN;
    }
    this.lastTotals = UNWRITTEN;
    this.tracked = false;
    this.error = null;
    const storage = this.openStorage(meta);
    if (!storage) return null;
    const recheck = recheckOf(meta, plan, prioritiesOf(meta, this.options));
    this.have = plan.verified;
    return this.torrentSettings(meta, storage, plan.verified, (i) => recheck[i] === 1 && storage.mayHoldData(i), announceDelayMs);
  }

  /**
   * Start-up: dormant at once when the resume plan trusts it whole and it would have nothing to do
   * (dormant-start.ts); otherwise built and started as open() does.
   */
  startStored(announceDelayMs: number): void {
    const { meta, ctx, options } = this;
    const planned = this.plan(meta);
    const priorities = prioritiesOf(meta, options);
    const recheck = recheckOf(meta, planned.plan, priorities);
    const start: StoredStart = {
      meta,
      have: planned.plan.verified,
      recheck: recheck.reduce((n, r) => n + r, 0),
      priorities,
      paused: this.record.state === "paused",
      goals: goalsOf(options),
    };
    if (!startsDormant(start)) return this.open(announceDelayMs, false, planned);
    const resume = planned.resume;
    this.base = bytesOf(resume);
    this.lastTotals = this.base;
    this.tracked = true; // the state holds its resume data as it stands
    this.dormantHave = start.have.isComplete() ? null : start.have;
    ctx.client.addDormant(meta.infoHash, this, { announce: firstCarry(meta, ctx.client.peerId, ctx.client.port, announceDelayMs), dht: !meta.private });
    this.asleep = true;
    this.current = null;
    this.writerLayout = null;
    const limits = { port: ctx.client.port, uploadLimit: options.uploadLimit ?? null, downloadLimit: options.downloadLimit ?? null };
    for (const event of dormantStartEvents(start, limits)) ctx.emit(event, this);
    ctx.rested();
  }

  /** The resume plan: what the state's resume data lets it trust of the files as they are now. */
  private plan(meta: Metainfo): Planned {
    const layout = this.layout();
    const resume = this.ctx.store.getResume(meta.infoHash);
    return { resume, plan: planResume(layout, resume, stampsOf(layout)) };
  }

  /** Its storage, or null in `error` (said in the log). */
  private openStorage(meta: Metainfo): TorrentStorage | null {
    const storage = openStorage(meta, this.record.savePath, this.options);
    if (!(storage instanceof StorageError)) return storage;
    this.error = storage.message;
    this.ctx.log(`${meta.name}: ${storage.message}`);
    return null;
  }

  private torrentSettings(meta: Metainfo, storage: TorrentStorage, have: Bitfield, check: TorrentSettings["check"], announceDelayMs: number): TorrentSettings {
    const from = {
      ctx: this.ctx,
      record: this.record,
      options: this.options,
      maxPeers: this.maxPeers,
      history: this.base,
      onEvent: (e: TorrentEvent) => this.handle(e),
    };
    return torrentSettingsOf(from, meta, storage, have, check, announceDelayMs);
  }

  private handle(event: TorrentEvent): void {
    const { ctx } = this;
    const infoHash = this.record.infoHash;
    switch (event.event) {
      case "checked":
        if (!this.tracked) {
          this.tracked = true;
          ctx.writer.track(infoHash, this.layout(), { bitfield: this.have!, ...this.totals() });
        } else ctx.writer.replaceBitfield(infoHash, this.have!);
        break;
      case "started":
        if (this.waking) {
          // Made again from dormant: it never stopped, as far as anyone knows. A seeder's `completed` follows.
          this.waking = event.seeding;
          return;
        }
        this.checkedAtStart = event.checked;
        break;
      case "completed":
        if (this.waking) {
          this.waking = false;
          this.sleepSoon();
          return;
        }
        this.sleepSoon();
        break;
      case "progress":
      case "stopped": {
        if (event.event === "progress") this.sleepSoon(); // gone idle (a progress is said once on going idle)
        const totals = this.totals();
        if (this.tracked && (totals.uploaded !== this.lastTotals.uploaded || totals.downloaded !== this.lastTotals.downloaded)) {
          this.lastTotals = keptBytes(totals);
          ctx.writer.setTotals(infoHash, totals.uploaded, totals.downloaded);
        }
        break;
      }
      case "paused":
      case "resumed":
        this.saveState(event.event === "paused" ? "paused" : "downloading");
        break;
      case "error":
        this.error = event.message;
        break;
      case "tracker":
      case "warning":
      case "dht":
        this.sleepSoon(); // an announce under way (answered, or failed and retried later), or its peers' dials, kept it awake
        break;
    }
    ctx.emit(event, this);
  }

  /** Once the torrent's step that said it has ended (a torrent with a step under way is not dormant). */
  private sleepSoon(): void {
    setImmediate(() => this.sleep());
  }

  /** The stored state only says whether it was paused; the rest is found again at start. */
  private saveState(state: "paused" | "downloading"): void {
    if (this.record.state === state) return;
    this.record = { ...this.record, state };
    this.ctx.store.setTorrentState(this.record.infoHash, state);
  }
}
