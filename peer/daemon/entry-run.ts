// One torrent of the daemon as it runs: its stored record, the running Torrent (none while it is in `error`
// before a retry, or dormant), and what ties the two together: the resume plan at start (what a restart may
// trust unhashed, see resume-plan.ts), the ResumeWriter's marks, the stored state, and totals over the
// torrent's life. Letting it go while it has nothing to do, and making it again, is TorrentEntry's
// (torrent-entry.ts), which extends this: one object per torrent either way (a daemon holds thousands).
import { toHex } from "../../shared/bytes.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Client, TorrentSettings } from "../client/client.ts";
import { StorageError, type TorrentStorage } from "../storage/index.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { Torrent } from "../torrent/torrent.ts";
import { planResume } from "./resume-plan.ts";
import { openStorage, stampsOf, torrentSettingsOf, writerLayoutOf } from "./entry-settings.ts";
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
import type { ResumeWriter, WriterLayout } from "./resume-writer.ts";
import type { StateStore, TorrentRecord } from "./state-store.ts";
import { prioritiesOf, type StoredOptions } from "./torrent-settings.ts";
import { sameTiers } from "./tracker-list.ts";
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

export abstract class EntryRun {
  readonly infoHash: string;
  /** Null when its storage could not be opened (`error`), or while dormant; a torrent that failed later stays, in state `error`. */
  torrent: Torrent | null = null;
  /** The message of the error that ended it, null otherwise. */
  error: string | null = null;
  /** Pieces hashed when it last started (the rest trusted from resume data, or known missing). */
  checkedAtStart = 0;
  /** Let go while it had nothing to do (torrent-entry.ts); its pieces are `dormantHave` (null: all of them). */
  protected asleep = false;
  protected dormantHave: Bitfield | null = null;
  /** A dormant torrent made again: its start's `started` and `completed` are not news. */
  protected waking = false;
  /** Uploaded and downloaded bytes of earlier runs (from the resume data). */
  protected base: ByteTotals = NO_BYTES;
  /** This run's torrents let go while dormant. */
  protected slept: RunTotals = NO_RUN;
  protected lastTotals: ByteTotals = UNWRITTEN;
  protected tracked = false;
  /** The pieces the torrent has (the Bitfield its settings gave it), for the resume writer. */
  protected have: Bitfield | null = null;
  /** Null while dormant (read again from the state when needed). */
  protected current: Metainfo | null;
  protected writerLayout: WriterLayout | null = null;
  facts: EntryFacts;
  record: EntryRecord;

  constructor(
    protected readonly ctx: EntryContext,
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

  /**
   * The torrent a magnet link's metadata made (the client started it, with `settings()`'s settings). Trackers
   * changed since those settings were made (MagnetEntry passes a change on to this entry before the swap)
   * are its trackers from now on.
   */
  attach(torrent: Torrent): void {
    this.torrent = torrent;
    if (!sameTiers(torrent.meta.announceList, this.meta.announceList)) torrent.setTrackers(this.meta.announceList);
  }

  protected layout(): WriterLayout {
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

  /** The resume plan: what the state's resume data lets it trust of the files as they are now. */
  protected plan(meta: Metainfo): Planned {
    const layout = this.layout();
    const resume = this.ctx.store.getResume(meta.infoHash);
    return { resume, plan: planResume(layout, resume, stampsOf(layout)) };
  }

  /** Its storage, or null in `error` (said in the log). */
  protected openStorage(meta: Metainfo): TorrentStorage | null {
    const storage = openStorage(meta, this.record.savePath, this.options);
    if (!(storage instanceof StorageError)) return storage;
    this.error = storage.message;
    this.ctx.log(`${meta.name}: ${storage.message}`);
    return null;
  }

  protected torrentSettings(
    meta: Metainfo,
    storage: TorrentStorage,
    have: Bitfield,
    check: TorrentSettings["check"],
    announceDelayMs: number,
  ): TorrentSettings {
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

  /** Once the torrent's step that said it has ended: it may be let go if it is dormant (torrent-entry.ts). */
  protected abstract sleepSoon(): void;

  /** The stored state only says whether it was paused; the rest is found again at start. */
  private saveState(state: "paused" | "downloading"): void {
    if (this.record.state === state) return;
    this.record = { ...this.record, state };
    this.ctx.store.setTorrentState(this.record.infoHash, state);
  }
}
