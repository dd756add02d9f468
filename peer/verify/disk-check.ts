// Checking a run of pieces on disk where it lies: reads each piece in chunks (positional reads from the page
// cache into a small buffer of the calling thread) and hashes it. Shared by a check's own workers (worker.ts,
// `btpeer verify`), the client's hashing threads (hash-pool-worker.ts) and the main-thread fallback.
import { pieceSize } from "../../shared/metainfo/types.ts";
import { FileSet } from "../storage/file-set.ts";
import { forEachSpan, type FileSpan } from "../storage/layout.ts";
import { OutputFolder } from "../storage/output-folder.ts";
import { PartsFile } from "../storage/parts-file.ts";

/** Where a torrent's data lies: enough for any thread to open and read it. */
export interface DiskLayout {
  /** The output folder (absolute): files are opened below it through an OutputFolder. */
  dir: string;
  files: FileSpan[];
  pieceLength: number;
  pieceCount: number;
  length: number;
  /** The parts file's name in `dir` (parts-file.ts): skipped files' shares of boundary pieces. */
  partsName: string;
}

/** Pieces [first, first + count) to check; `hashes` holds their expected SHA-1s (20 bytes each, from `first`). */
export interface DiskRange {
  layout: DiskLayout;
  first: number;
  count: number;
  hashes: Uint8Array;
}

// Reads of 256 KiB keep the data in cache between the copy and the hash, whatever the piece size.
const CHUNK = 256 * 1024;
let chunk: Uint8Array | null = null;
let hasher: Bun.CryptoHasher | null = null;
// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digest = new Uint8Array(64);

/**
 * 1 per piece of the range fully on disk and hashing to its expected value, else 0. The files are opened for
 * the range and closed before it returns (even on a throw): a thread ended later holds no descriptor, and a
 * process checking thousands of torrents holds only the files of the ranges being read. Throws StorageError.
 */
export function checkRange(range: DiskRange): Uint8Array {
  const { layout } = range;
  const folder = new OutputFolder(layout.dir, { missingOk: true });
  const files = new FileSet(layout.files, false, folder);
  const parts = new PartsFile(layout.files, layout.pieceLength, layout.partsName, folder, false);
  const ok = new Uint8Array(range.count);
  try {
    for (let k = 0; k < range.count; k++) ok[k] = checkPiece(layout, files, parts, range.first + k, range.hashes.subarray(k * 20, k * 20 + 20)) ? 1 : 0;
  } finally {
    parts.close();
    files.close();
  }
  return ok;
}

/** A file missing or short may be a skipped one whose share of this piece is in the parts file. */
function checkPiece(layout: DiskLayout, set: FileSet, sideFile: PartsFile, index: number, expected: Uint8Array): boolean {
  chunk ??= new Uint8Array(CHUNK);
  hasher ??= new Bun.CryptoHasher("sha1");
  const buffer = chunk;
  const size = pieceSize(layout, index);
  let whole = true;
  for (let done = 0; done < size && whole; done += CHUNK) {
    const n = Math.min(CHUNK, size - done);
    forEachSpan(set.files, index * layout.pieceLength + done, n, (i, position, length, at) => {
      if (whole && !set.read(i, buffer, at, length, position) && !sideFile.read(index, buffer, at, length, done + at)) whole = false;
    });
    if (whole) hasher.update(buffer.subarray(0, n));
  }
  hasher.digest(digest); // also resets the hasher for the next piece
  if (!whole || expected.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (digest[i] !== expected[i]) return false;
  return true;
}
