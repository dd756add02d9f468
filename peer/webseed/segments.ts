// The byte range of a run of pieces as the files it covers: one HTTP range request per real file, zeros
// for BEP 47 padding (padding files are not on the server), empty files skipped.
import type { Metainfo } from "../../shared/metainfo/types.ts";

export interface Segment {
  /** Index into meta.files. */
  file: number;
  /** First byte within the file. */
  position: number;
  length: number;
  padding: boolean;
}

type Geometry = Pick<Metainfo, "files" | "pieceLength" | "length">;

/** The segments of pieces [first, first + count), in order; their lengths add up to the run's length. */
export function runSegments(meta: Geometry, first: number, count: number): Segment[] {
  const start = first * meta.pieceLength;
  const end = Math.min(meta.length, (first + count) * meta.pieceLength);
  const out: Segment[] = [];
  meta.files.forEach((f, file) => {
    const from = Math.max(start, f.offset);
    const to = Math.min(end, f.offset + f.length);
    if (to > from) out.push({ file, position: from - f.offset, length: to - from, padding: f.padding === true });
  });
  return out;
}

/** The files holding any byte of piece `index` (padding files aside): what a bad piece puts in doubt. */
export function filesOfPiece(meta: Geometry, index: number): number[] {
  return runSegments(meta, index, 1)
    .filter((s) => !s.padding)
    .map((s) => s.file);
}

/** The pieces holding any byte of file `file`. */
export function piecesOfFile(meta: Geometry, file: number): { first: number; last: number } | null {
  const f = meta.files[file];
  if (!f || f.length === 0) return null;
  return { first: Math.floor(f.offset / meta.pieceLength), last: Math.floor((f.offset + f.length - 1) / meta.pieceLength) };
}
