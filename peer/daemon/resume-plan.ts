// What a restart may trust from resume data, and what it must check again.
//
// The contract the store's writer and this plan rely on:
//  1. A piece is marked verified only after it was hashed AND its write to disk completed. After a
//     SIGKILL the page cache keeps every completed write, so each bit in a committed bitfield has its
//     data on disk. (A power loss or kernel crash can lose both data and WAL; that needs a full check.)
//  2. A file's stamp (size, mtime) is taken by a flush, after the marks it commits, and only while no
//     write to that file is under way (writeStarted … markVerified / writeAbandoned). So a stamp covers
//     exactly the writes the committed bitfield knows about, plus possibly writes of pieces that were
//     not marked yet (those pieces are simply not in the bitfield).
//  3. Any write after the stamp changes the file's mtime (or size), unless it lands within the same
//     tick of the file system's timestamp clock as the stamp; then the piece it wrote is not in the
//     bitfield either, and is fetched again: never trusted unchecked.
//
// On start, per file, the stamp stored is compared with the file on disk:
//  - unchanged: its pieces in the bitfield are trusted without hashing; pieces not in the bitfield are
//    missing (any unmarked write to it happened before the stamp and is at worst fetched again);
//  - changed (size or mtime differs) or unstamped (never flushed): every piece touching it is re-checked,
//    the ones in the bitfield (someone may have altered the file) and the ones not in it (pieces that
//    were in flight when the process died may be complete on disk);
//  - missing: its pieces are missing.
// A piece touching several files is trusted only if all of them are unchanged. libtorrent does the
// same per-file comparison. The cost of a crash is re-hashing the files written since the last flush:
// for a torrent of one large file, that is the whole file. Recording intents before each write would
// narrow it to the pieces in flight, at the price of a commit before writes; not worth it yet.
//
// Same size and mtime after an edit (`touch -d`) is not detected, as in libtorrent.
import * as fs from "node:fs";
import { Bitfield } from "../../shared/bitfield.ts";

export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ResumeLayout {
  readonly pieceCount: number;
  readonly pieceLength: number;
  /** In torrent order; offsets into the concatenated content. */
  readonly files: readonly { readonly offset: number; readonly length: number }[];
}

/** A torrent's resume data as the store keeps it. */
export interface ResumeData {
  readonly pieceCount: number;
  readonly bitfield: Bitfield;
  /** Per file index: the stamp of the last flush that covered a write to it; null or absent if none yet. */
  readonly files: readonly (FileStamp | null)[];
  readonly uploaded: number;
  readonly downloaded: number;
  /** ms since the epoch. */
  readonly updatedAt: number;
}

export type FileVerdict = "unchanged" | "changed" | "unstamped" | "missing";

export interface ResumePlan {
  /** Trusted without hashing. */
  readonly verified: Bitfield;
  /** To hash before trusting, ascending. Pieces in neither are missing: fetch them. */
  readonly recheck: number[];
  readonly files: FileVerdict[];
}

/**
 * `onDisk[i]` is file i's stamp now (null: not there). Without resume data, or with data that does not
 * fit the layout, every piece whose files exist is re-checked: what a first start does anyway.
 */
export function planResume(layout: ResumeLayout, resume: ResumeData | null, onDisk: readonly (FileStamp | null)[]): ResumePlan {
  if (onDisk.length !== layout.files.length) {
    throw new RangeError(`${onDisk.length} file stamps for a torrent of ${layout.files.length} files`);
  }
  const fits = resume !== null && resume.pieceCount === layout.pieceCount && resume.files.length <= layout.files.length;
  const files = layout.files.map((_, i): FileVerdict => {
    const now = onDisk[i];
    const then = fits ? (resume.files[i] ?? null) : null;
    if (!now) return "missing";
    if (!then) return "unstamped";
    return now.size === then.size && now.mtimeMs === then.mtimeMs ? "unchanged" : "changed";
  });
  // Per piece: 0 = its files unchanged, 1 = some file changed or unstamped, 2 = some file missing.
  const taint = new Uint8Array(layout.pieceCount);
  layout.files.forEach((file, i) => {
    if (file.length === 0 || files[i] === "unchanged") return;
    const level = files[i] === "missing" ? 2 : 1;
    const [first, last] = pieceRange(layout, file);
    for (let p = first; p <= last; p++) taint[p] = Math.max(taint[p]!, level);
  });
  const verified = new Bitfield(layout.pieceCount);
  const recheck: number[] = [];
  for (let p = 0; p < layout.pieceCount; p++) {
    if (taint[p] === 0 && fits && resume.bitfield.has(p)) verified.set(p);
    else if (taint[p] === 1) recheck.push(p);
  }
  return { verified, recheck, files };
}

/** First and last piece a non-empty file touches. */
export function pieceRange(layout: Pick<ResumeLayout, "pieceLength">, file: { offset: number; length: number }): [number, number] {
  return [Math.floor(file.offset / layout.pieceLength), Math.floor((file.offset + file.length - 1) / layout.pieceLength)];
}

/** Indices of the non-empty files piece `index` touches. */
export function filesOfPiece(layout: ResumeLayout, index: number): number[] {
  const start = index * layout.pieceLength;
  const end = start + layout.pieceLength;
  // The last file starting at or before `start`, then forward while files begin before `end`.
  let lo = 0;
  let hi = layout.files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (layout.files[mid]!.offset <= start) lo = mid;
    else hi = mid - 1;
  }
  const out: number[] = [];
  for (let i = lo; i < layout.files.length && layout.files[i]!.offset < end; i++) {
    const f = layout.files[i]!;
    if (f.length > 0 && f.offset + f.length > start) out.push(i);
  }
  return out;
}

/** A file's stamp now; null when it is not there (or not a regular file). */
export function stampFile(file: string): FileStamp | null {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}
