// What a TorrentEntry keeps of its torrent apart from a running Torrent: the facts the lists show (kept
// while a dormant torrent's Metainfo is not), its totals (shared when zero: a daemon holds thousands), and
// the pieces its resume plan says to hash before trusting them.
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { FilePriority } from "../pieces/wanted.ts";
import type { ResumeData, ResumePlan } from "./resume-plan.ts";
import { prioritiesOf, type StoredOptions } from "./torrent-settings.ts";

/** What the lists show of a torrent whatever it is doing: kept while its Metainfo is not. */
export interface EntryFacts {
  readonly name: string;
  readonly length: number;
  readonly pieceCount: number;
  /** Bytes of the files not skipped. */
  readonly wantedSize: number;
  readonly trackerCount: number;
}

/** The resume data and the plan made of it. */
export interface Planned {
  readonly resume: ResumeData | null;
  readonly plan: ResumePlan;
}

export interface ByteTotals {
  readonly uploaded: number;
  readonly downloaded: number;
}

// Totals are replaced, never changed in place: the usual ones are shared (thousands of dormant entries).
export const NO_BYTES: ByteTotals = Object.freeze({ uploaded: 0, downloaded: 0 });
export const UNWRITTEN: ByteTotals = Object.freeze({ uploaded: -1, downloaded: -1 });
export const NO_RUN: RunTotals = Object.freeze({ uploaded: 0, downloaded: 0, failedPieces: 0 });

export function bytesOf(resume: ResumeData | null): ByteTotals {
  return resume && (resume.uploaded !== 0 || resume.downloaded !== 0) ? { uploaded: resume.uploaded, downloaded: resume.downloaded } : NO_BYTES;
}

/** `totals`, or the shared NO_BYTES when both are zero (what a dormant entry keeps as last written). */
export function keptBytes(totals: ByteTotals): ByteTotals {
  return totals.uploaded === 0 && totals.downloaded === 0 ? NO_BYTES : totals;
}

/** Totals of one run's torrents, added up over the ones let go while dormant. */
export interface RunTotals {
  readonly uploaded: number;
  readonly downloaded: number;
  readonly failedPieces: number;
}

/** Per piece, 1 to hash before trusting it. */
export function recheckOf(meta: Metainfo, plan: ResumePlan, priorities: readonly FilePriority[]): Uint8Array {
  const recheck = new Uint8Array(meta.pieceCount);
  for (const p of plan.recheck) recheck[p] = 1;
  // A piece a skipped file shares with a wanted one keeps the skipped share in the parts file, which
  // resume data does not stamp: the plan counts the piece missing, so it is hashed rather than fetched again.
  for (const p of sharedWithSkipped(meta, priorities)) if (!plan.verified.has(p)) recheck[p] = 1;
  return recheck;
}

export function factsOf(meta: Metainfo, options: StoredOptions): EntryFacts {
  const priorities = prioritiesOf(meta, options);
  return {
    name: meta.name,
    length: meta.length,
    pieceCount: meta.pieceCount,
    wantedSize: priorities.reduce((n, p, i) => (p === "skip" || meta.files[i]!.padding ? n : n + meta.files[i]!.length), 0),
    trackerCount: meta.announceList.reduce((n, tier) => n + tier.length, 0),
  };
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
