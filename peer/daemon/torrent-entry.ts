// One torrent of the daemon: its stored record, the running Torrent (none while it is in `error` before a
// retry), and what ties the two together: the resume plan at start (what a restart may trust unhashed, see
// resume-plan.ts), the ResumeWriter's marks, the stored state, and totals over the torrent's life.
import { toHex } from "../../shared/bytes.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Client, TorrentSettings } from "../client/client.ts";
import { layoutFiles, StorageError, TorrentStorage } from "../storage/index.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { Torrent } from "../torrent/torrent.ts";
import { planResume, stampFile } from "./resume-plan.ts";
import type { ResumeWriter, WriterLayout } from "./resume-writer.ts";
import { ResumingStorage } from "./resuming-storage.ts";
import type { StateStore, TorrentRecord } from "./state-store.ts";

import { goalsOf, mergeSettings, prioritiesOf, type StoredOptions } from "./torrent-settings.ts";
import { type AddTorrentRequest, DaemonError } from "./control.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { FilePriority } from "../pieces/wanted.ts";

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
  log(line: string): void;
}

/** What an entry keeps of its stored record: the .torrent's bytes were parsed into `meta` and are not held again. */
export type EntryRecord = Omit<TorrentRecord, "metainfo">;

/**
 * The record of a .torrent being added, with its settings merged in, and the metainfo parsed from it.
 * Throws DaemonError: bytes that are not a torrent, or settings that do not fit it.
 */
export function torrentRecord(request: AddTorrentRequest, torrent: Uint8Array, savePath: string): { meta: Metainfo; record: TorrentRecord } {
  let meta: Metainfo;
  try {
    meta = parseMetainfo(torrent);
  } catch (error) {
    throw new DaemonError("bad-torrent", `not a valid torrent: ${(error as Error).message}`);
  }
  const { filePriorities, sequential, limits, goals } = request;
  const options = mergeSettings(meta, {}, { filePriorities, sequential, limits, goals });
  const record: TorrentRecord = {
    infoHash: meta.infoHash,
    metainfo: torrent,
    savePath,
    options: options as unknown as TorrentRecord["options"],
    state: request.paused ? "paused" : "downloading",
    addedAt: Date.now(),
  };
  return { meta, record };
}

export class TorrentEntry {
  readonly infoHash: string;
  /** Null when its storage could not be opened (`error`); a torrent that failed later stays, in state `error`. */
  torrent: Torrent | null = null;
  /** The message of the error that ended it, null otherwise. */
  error: string | null = null;
  /** Pieces hashed when it last started (the rest trusted from resume data, or known missing). */
  checkedAtStart = 0;
  /** Uploaded and downloaded bytes of earlier runs (from the resume data). */
  private base = { uploaded: 0, downloaded: 0 };
  private lastTotals = { uploaded: -1, downloaded: -1 };
  private tracked = false;
  /** The pieces the torrent has (the Bitfield its settings gave it), for the resume writer. */
  private have: Bitfield | null = null;
  private readonly layout: WriterLayout;
  record: EntryRecord;

  constructor(
    private readonly ctx: EntryContext,
    readonly meta: Metainfo,
    record: TorrentRecord,
  ) {
    const { metainfo: _bytes, ...kept } = record;
    this.record = kept;
    this.infoHash = toHex(meta.infoHash);
    const files = layoutFiles(meta, record.savePath); // StorageError for a path that would leave the save path
    // Padding files are never on disk: as zero-length files, the plan and the writer pass them by.
    const spans = files.map((f) => ({ path: f.path, offset: f.offset, length: f.padding ? 0 : f.length }));
    this.layout = { pieceCount: meta.pieceCount, pieceLength: meta.pieceLength, files: spans };
  }

  get options(): StoredOptions {
    return this.record.options as StoredOptions;
  }

  /** New settings (checked by torrent-settings.ts): kept in the record and the store. */
  setOptions(options: StoredOptions): void {
    const stored = options as unknown as EntryRecord["options"];
    this.record = { ...this.record, options: stored };
    this.ctx.store.setOptions(this.meta.infoHash, stored);
  }

  /** Life totals: earlier runs plus this one. */
  totals(): { uploaded: number; downloaded: number } {
    const now = this.torrent?.totals();
    return { uploaded: this.base.uploaded + (now?.uploaded ?? 0), downloaded: this.base.downloaded + (now?.downloaded ?? 0) };
  }

  /** Builds the Torrent from the resume plan and starts it (checking first what the plan cannot trust). */
  open(announceDelayMs = 0): void {
    const settings = this.settings(announceDelayMs);
    if (!settings) return;
    this.attach(this.ctx.client.addTorrent(settings));
    this.torrent!.start();
  }

  /** The torrent a magnet link's metadata made (the client started it, with `settings()`'s settings). */
  attach(torrent: Torrent): void {
    this.torrent = torrent;
  }

  /**
   * The Torrent's settings from the resume plan, or null when its storage cannot be opened (`error`).
   * File stamps are read before the storage opens, since opening creates missing files.
   */
  settings(announceDelayMs = 0): TorrentSettings | null {
    const { meta, record, ctx } = this;
    const stamps = this.layout.files.map((f) => (f.length === 0 ? null : stampFile(f.path)));
    const resume = ctx.store.getResume(meta.infoHash);
    const plan = planResume(this.layout, resume, stamps);
    this.base = { uploaded: resume?.uploaded ?? 0, downloaded: resume?.downloaded ?? 0 };
    this.lastTotals = { uploaded: -1, downloaded: -1 };
    this.tracked = false;
    this.error = null;
    const filePriorities = prioritiesOf(meta, this.options);
    let storage: TorrentStorage;
    try {
      storage = TorrentStorage.open(meta, record.savePath, { skipped: filePriorities.map((p) => p === "skip") });
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      this.error = error.message;
      ctx.log(`${meta.name}: ${error.message}`);
      return null;
    }
    const recheck = new Uint8Array(meta.pieceCount);
    for (const p of plan.recheck) recheck[p] = 1;
    // A piece a skipped file shares with a wanted one keeps the skipped share in the parts file, which
    // resume data does not stamp: the plan counts the piece missing, so it is hashed rather than fetched again.
    for (const p of sharedWithSkipped(meta, filePriorities)) if (!plan.verified.has(p)) recheck[p] = 1;
    this.have = plan.verified;
    return {
      meta,
      storage: new ResumingStorage(storage, ctx.writer, meta.infoHash, (error) => ctx.log(`${meta.name}: saving resume data failed: ${String(error)}`)),
      have: plan.verified,
      dir: record.savePath,
      check: (i) => recheck[i] === 1 && storage.mayHoldData(i),
      paused: record.state === "paused",
      poolBytes: ctx.poolBytes,
      maxPeers: this.options.maxPeers ?? ctx.maxPeers,
      uploadLimit: this.options.uploadLimit ?? undefined,
      downloadLimit: this.options.downloadLimit ?? undefined,
      filePriorities,
      sequential: this.options.sequential ?? false,
      goals: goalsOf(this.options),
      // Seeding time of earlier runs is not kept yet: the seed-time goal counts from this start.
      history: { ...this.base, seedingSeconds: 0 },
      peers: [],
      seed: true,
      waitForPeers: true,
      announceDelayMs,
      onEvent: (event) => this.handle(event),
    };
  }

  private handle(event: TorrentEvent): void {
    const { ctx, meta } = this;
    switch (event.event) {
      case "checked":
        if (!this.tracked) {
          this.tracked = true;
          ctx.writer.track(meta.infoHash, this.layout, { bitfield: this.have!, ...this.totals() });
        } else ctx.writer.replaceBitfield(meta.infoHash, this.have!);
        break;
      case "started":
        this.checkedAtStart = event.checked;
        break;
      case "progress":
      case "stopped": {
        const totals = this.totals();
        if (this.tracked && (totals.uploaded !== this.lastTotals.uploaded || totals.downloaded !== this.lastTotals.downloaded)) {
          this.lastTotals = totals;
          ctx.writer.setTotals(meta.infoHash, totals.uploaded, totals.downloaded);
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
    }
    ctx.emit(event, this);
  }

  /** The stored state only says whether it was paused; the rest is found again at start. */
  private saveState(state: "paused" | "downloading"): void {
    if (this.record.state === state) return;
    this.record = { ...this.record, state };
    this.ctx.store.setTorrentState(this.meta.infoHash, state);
  }
}

/** The first and last pieces of each skipped file (those it may share with its neighbours). */
function sharedWithSkipped(meta: Metainfo, priorities: readonly FilePriority[]): number[] {
  const pieces: number[] = [];
  meta.files.forEach((f, i) => {
    if (priorities[i] !== "skip" || f.padding || f.length === 0) return;
    pieces.push(Math.floor(f.offset / meta.pieceLength), Math.floor((f.offset + f.length - 1) / meta.pieceLength));
  });
  return pieces;
}
