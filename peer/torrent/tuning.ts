// What of a torrent can change while it runs: which files are wanted (and at what priority), sequential
// order, its rate limits (drawn together with the client's global ones), and its seeding goals. The
// torrent (torrent.ts) delegates its setters here and reacts to what changed in its lifecycle.
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { GlobalRateLimits } from "../client/torrent-host.ts";
import { RateBudget, RateLimit } from "../net/rate-budget.ts";
import type { Downloader } from "../pieces/downloader.ts";
import { allNormal, piecePriorities, priorityProblem, type FilePriority } from "../pieces/wanted.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { SPAN_PAYLOAD } from "../upload/uploader.ts";
import type { PieceStore, TorrentHistory } from "./options.ts";
import { goalReached, goalsProblem, NO_GOALS, type GoalReached, type SeedingGoals, type SeedingRecord } from "./seeding-goals.ts";

export interface RateLimits {
  /** Bytes per second, null: no limit. */
  upload: number | null;
  download: number | null;
}

/** A torrent's run-time settings as they stand (Torrent.tuned). */
export interface TunedSettings {
  filePriorities: readonly FilePriority[];
  sequential: boolean;
  rateLimits: RateLimits;
  maxPeers: number;
  goals: SeedingGoals;
}

/** A download limit's burst: a few blocks, so requests go out a few at a time at low rates. */
export const DOWNLOAD_MIN_BURST = 4 * BLOCK_SIZE;

// Shared, never changed: a daemon makes these for thousands of torrents.
const UPLOAD_BURST = Object.freeze({ minBurst: SPAN_PAYLOAD });
const DOWNLOAD_BURST = Object.freeze({ minBurst: DOWNLOAD_MIN_BURST });
const NO_HISTORY: TorrentHistory = Object.freeze({ uploaded: 0, downloaded: 0, seedingSeconds: 0 });
const UNSET_GOALS: SeedingGoals = Object.freeze({ ...NO_GOALS });

export function uploadLimit(rate: number | null): RateLimit {
  return new RateLimit(rate, UPLOAD_BURST);
}

export function downloadLimit(rate: number | null): RateLimit {
  return new RateLimit(rate, DOWNLOAD_BURST);
}

function checkRate(name: string, rate: number | null | undefined): void {
  if (rate === null || rate === undefined) return;
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`${name} must be a positive number of bytes per second or null, got ${rate}`);
}

export class TorrentTuning {
  readonly upload: RateLimit;
  readonly download: RateLimit;
  /** What the uploader spends from: this torrent's limit and the client's. */
  readonly uploadBudget: RateBudget;
  readonly downloadBudget: RateBudget;
  private priorities: readonly FilePriority[];
  /** Replaced, never changed in place (a torrent given none shares one). */
  goals: SeedingGoals;

  constructor(
    private readonly meta: Metainfo,
    global: GlobalRateLimits,
    options: { uploadLimit?: number; downloadLimit?: number; filePriorities?: readonly FilePriority[]; goals?: SeedingGoals; history?: TorrentHistory },
  ) {
    checkRate("upload limit", options.uploadLimit);
    checkRate("download limit", options.downloadLimit);
    this.upload = uploadLimit(options.uploadLimit ?? null);
    this.download = downloadLimit(options.downloadLimit ?? null);
    this.uploadBudget = new RateBudget(this.upload, global.upload);
    this.downloadBudget = new RateBudget(this.download, global.download);
    this.priorities = options.filePriorities ? this.checked(options.filePriorities) : allNormalShared(meta.files.length);
    this.goals = options.goals ? { ...NO_GOALS, ...options.goals } : UNSET_GOALS;
    this.history = options.history ?? NO_HISTORY;
  }

  /** What came before this run (the daemon's totals), added to this run's for the goals. */
  private readonly history: TorrentHistory;

  /** A goal reached by this run's record (`thisRun`, asked for only when there is a goal) plus the history; else null. */
  goalReached(thisRun: () => SeedingRecord): GoalReached | null {
    if (this.goals.ratioLimit === null && this.goals.seedTimeLimit === null) return null;
    const run = thisRun();
    const past = this.history;
    return goalReached(this.goals, {
      uploaded: past.uploaded + run.uploaded,
      downloaded: past.downloaded + run.downloaded,
      wantedBytes: run.wantedBytes,
      seedingSeconds: past.seedingSeconds + run.seedingSeconds,
    });
  }

  get filePriorities(): readonly FilePriority[] {
    return this.priorities;
  }

  get skipped(): boolean[] {
    return this.priorities.map((p) => p === "skip");
  }

  piecePriorities(): Uint8Array {
    return piecePriorities(this.meta, this.priorities);
  }

  /**
   * New file priorities: un-skipped files are created (and get their share of boundary pieces from the
   * parts file), then the picker works from the new wanted set. Throws RangeError for a list that does
   * not fit, StorageError when a file cannot be created.
   */
  setFilePriorities(priorities: readonly FilePriority[], storage: PieceStore, downloader: Downloader): void {
    const next = this.checked(priorities);
    storage.setSkipped(
      next.map((p) => p === "skip"),
      (i) => downloader.have.has(i),
    );
    this.priorities = next;
    downloader.setPriorities(this.piecePriorities());
  }

  setRateLimits(limits: Partial<RateLimits>): void {
    checkRate("upload limit", limits.upload);
    checkRate("download limit", limits.download);
    if (limits.upload !== undefined) this.upload.set(limits.upload);
    if (limits.download !== undefined) this.download.set(limits.download);
  }

  get rateLimits(): RateLimits {
    return { upload: this.upload.rate, download: this.download.rate };
  }

  setGoals(goals: Partial<SeedingGoals>): void {
    const problem = goalsProblem(goals);
    if (problem) throw new RangeError(problem);
    this.goals = { ...this.goals, ...goals };
  }

  private checked(priorities: readonly FilePriority[]): FilePriority[] {
    const problem = priorityProblem(priorities, this.meta.files.length);
    if (problem) throw new RangeError(problem);
    return [...priorities];
  }
}

/** Every file at normal priority, one frozen list per file count (most torrents have few files and keep it). */
const normalLists = new Map<number, readonly FilePriority[]>();
function allNormalShared(fileCount: number): readonly FilePriority[] {
  if (fileCount > 64) return allNormal(fileCount); // rare: not worth keeping
  let list = normalLists.get(fileCount);
  if (!list) normalLists.set(fileCount, (list = Object.freeze(allNormal(fileCount))));
  return list;
}
