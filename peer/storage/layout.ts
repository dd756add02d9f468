// Where a torrent's bytes live on disk: each file's absolute path (checked to stay under the output
// folder) and the split of any byte range of the torrent into per-file spans.
import * as path from "node:path";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { StorageError } from "./errors.ts";

export interface FileSpan {
  /** Absolute path under the output folder. */
  readonly path: string;
  /** The same path as components below the output folder (what OutputFolder opens). */
  readonly parts: readonly string[];
  readonly length: number;
  /** Offset of the file's first byte in the torrent's concatenated content. */
  readonly offset: number;
  /** A BEP 47 padding file: zeros, never created on disk (see padding.ts). */
  readonly padding?: boolean;
}

/**
 * True when `child` is strictly inside `root` (both absolute, normalised). Judged on the first path
 * component, not the string: `..data` is a file name like any other, only `..` itself climbs out.
 */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel !== "" && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== "..";
}

/**
 * The torrent's files as absolute paths under `dir`: a multi-file torrent lives in a folder named after
 * the torrent, a single file sits in `dir` itself. Throws `path-escape` for any path that would leave `dir`.
 */
export function layoutFiles(meta: Pick<Metainfo, "name" | "multiFile" | "files">, dir: string): FileSpan[] {
  const root = path.resolve(dir);
  return meta.files.map((f) => {
    const rel = meta.multiFile ? [meta.name, ...f.path] : f.path.length > 0 ? f.path : [meta.name];
    const full = path.resolve(root, ...rel);
    if (!isInside(root, full) || rel.some((c) => c === ".." || c === "." || c === "" || c.includes("\0"))) {
      throw new StorageError("path-escape", `torrent path "${rel.join("/")}" would leave ${root}; refusing to write it`);
    }
    return { path: full, parts: rel, length: f.length, offset: f.offset, ...(f.padding ? { padding: true } : {}) };
  });
}

/**
 * Calls `visit(fileIndex, positionInFile, length, offsetInRange)` for each piece of the byte range
 * [start, start + length) of the torrent, in order, skipping zero-length files.
 */
export function forEachSpan(
  files: readonly FileSpan[],
  start: number,
  length: number,
  visit: (fileIndex: number, position: number, length: number, rangeOffset: number) => void,
): void {
  // Binary search for the last file starting at or before `start`.
  let lo = 0;
  let hi = files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (files[mid]!.offset <= start) lo = mid;
    else hi = mid - 1;
  }
  let done = 0;
  for (let i = lo; i < files.length && done < length; i++) {
    const f = files[i]!;
    const at = start + done;
    if (f.length === 0 || at >= f.offset + f.length) continue;
    const n = Math.min(length - done, f.offset + f.length - at);
    visit(i, at - f.offset, n, done);
    done += n;
  }
  if (done < length) throw new StorageError("bad-range", `byte range ${start}+${length} runs past the torrent's end`);
}
