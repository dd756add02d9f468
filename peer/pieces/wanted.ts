// Which pieces the user wants, from per-file priorities: a piece is wanted when any of its bytes lies in a
// file that is not skipped (so a piece shared by a skipped and a wanted file is still fetched), and `high`
// when any of its bytes lies in a high-priority file. Padding files (BEP 47) count for nothing. Pure
// arithmetic over the file list: the picker and the torrent's progress read it, storage decides what to
// create from the same priorities.

/** A file's priority: `skip` files are not downloaded (pieces shared with a wanted file still are) and not created. */
export type FilePriority = "skip" | "normal" | "high";

export const enum PiecePriority {
  Skip = 0,
  Normal = 1,
  High = 2,
}

interface WantedFile {
  readonly offset: number;
  readonly length: number;
  readonly padding?: boolean;
}

export interface WantedGeometry {
  readonly files: readonly WantedFile[];
  readonly pieceLength: number;
  readonly pieceCount: number;
  readonly length: number;
}

const RANK: Record<FilePriority, PiecePriority> = { skip: PiecePriority.Skip, normal: PiecePriority.Normal, high: PiecePriority.High };

/** Checks a priority list against the torrent (one entry per file); returns a message when it does not fit. */
export function priorityProblem(priorities: readonly FilePriority[], fileCount: number): string | null {
  if (priorities.length !== fileCount) return `${priorities.length} file priorities for ${fileCount} files`;
  for (const p of priorities) if (!(p in RANK)) return `"${String(p)}" is not a file priority (skip, normal, high)`;
  return null;
}

/** Per-piece priorities (the highest of the files a piece touches) for `priorities` (one per file). */
export function piecePriorities(geometry: WantedGeometry, priorities: readonly FilePriority[]): Uint8Array {
  const out = new Uint8Array(geometry.pieceCount);
  const { pieceLength } = geometry;
  geometry.files.forEach((file, i) => {
    if (file.padding || file.length === 0) return;
    const rank = RANK[priorities[i] ?? "normal"];
    if (rank === PiecePriority.Skip) return;
    const first = Math.floor(file.offset / pieceLength);
    const last = Math.floor((file.offset + file.length - 1) / pieceLength);
    for (let p = first; p <= last; p++) if (out[p]! < rank) out[p] = rank;
  });
  // A torrent of nothing but padding (or empty files) has pieces no file claims: they are wanted as they are.
  if (geometry.files.every((f) => f.padding || f.length === 0)) out.fill(PiecePriority.Normal);
  return out;
}

/** Every file `normal`. */
export function allNormal(fileCount: number): FilePriority[] {
  return new Array<FilePriority>(fileCount).fill("normal");
}
