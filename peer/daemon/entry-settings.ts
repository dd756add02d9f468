// How a TorrentEntry's torrent is made: the file layout its resume plan and the resume writer go by, the
// files' stamps, its storage, and the Torrent's settings from the stored record.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentSettings } from "../client/client.ts";
import { layoutFiles, StorageError, TorrentStorage } from "../storage/index.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { ByteTotals } from "./entry-facts.ts";
import { type FileStamp, planResume, type ResumeData, stampFile } from "./resume-plan.ts";
import type { WriterLayout } from "./resume-writer.ts";
import { ResumingStorage } from "./resuming-storage.ts";
import type { EntryContext, EntryRecord } from "./entry-run.ts";
import { goalsOf, prioritiesOf, type StoredOptions } from "./torrent-settings.ts";

/** Throws StorageError for a path that would leave the save path. */
export function writerLayoutOf(meta: Metainfo, savePath: string): WriterLayout {
  const files = layoutFiles(meta, savePath);
  // Padding files are never on disk: as zero-length files, the plan and the writer pass them by.
  const spans = files.map((f) => ({ path: f.path, offset: f.offset, length: f.padding ? 0 : f.length }));
  return { pieceCount: meta.pieceCount, pieceLength: meta.pieceLength, files: spans };
}

/** Each file's size and mtime now (null: not there, or zero-length). */
export function stampsOf(layout: WriterLayout): (FileStamp | null)[] {
  return layout.files.map((f) => (f.length === 0 ? null : stampFile(f.path)));
}

/** Whether a wanted file's size or mtime differs from the state's stamp of it (or it is gone). */
export function wantedFilesChanged(meta: Metainfo, layout: WriterLayout, resume: ResumeData | null, options: StoredOptions): boolean {
  const plan = planResume(layout, resume, stampsOf(layout));
  const priorities = prioritiesOf(meta, options);
  return plan.files.some((verdict, i) => verdict !== "unchanged" && layout.files[i]!.length > 0 && priorities[i] !== "skip");
}

/** The torrent's files, skipped ones aside; a StorageError (returned) when they cannot be opened. */
export function openStorage(meta: Metainfo, savePath: string, options: StoredOptions): TorrentStorage | StorageError {
  try {
    return TorrentStorage.open(meta, savePath, { skipped: prioritiesOf(meta, options).map((p) => p === "skip") });
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    return error;
  }
}

/** What the settings are made from besides the torrent's pieces and files. */
export interface SettingsSource {
  readonly ctx: EntryContext;
  readonly record: EntryRecord;
  readonly options: StoredOptions;
  readonly maxPeers: number;
  /** Totals of earlier runs. */
  readonly history: ByteTotals;
  onEvent(event: TorrentEvent): void;
}

export function torrentSettingsOf(
  from: SettingsSource,
  meta: Metainfo,
  storage: TorrentStorage,
  have: Bitfield,
  check: TorrentSettings["check"],
  announceDelayMs: number,
): TorrentSettings {
  const { ctx, record, options } = from;
  return {
    meta,
    storage: new ResumingStorage(storage, ctx.writer, meta.infoHash, (error) => ctx.log(`${meta.name}: saving resume data failed: ${String(error)}`)),
    have,
    dir: record.savePath,
    check,
    paused: record.state === "paused",
    poolBytes: ctx.poolBytes,
    maxPeers: from.maxPeers,
    uploadLimit: options.uploadLimit ?? undefined,
    downloadLimit: options.downloadLimit ?? undefined,
    filePriorities: prioritiesOf(meta, options),
    sequential: options.sequential ?? false,
    goals: goalsOf(options),
    // Seeding time of earlier runs is not kept yet: the seed-time goal counts from this start.
    history: { ...from.history, seedingSeconds: 0 },
    peers: [],
    seed: true,
    waitForPeers: true,
    announceDelayMs,
    onEvent: (event) => from.onEvent(event),
  };
}
