// Checking a run of pieces on disk where it lies: reads each piece in chunks (positional reads from the page
// cache into a small buffer of the calling thread) and hashes it. Shared by a check's own workers (worker.ts,
// `btpeer verify`), the client's hashing threads (hash-pool-worker.ts) and the main-thread fallback. Where
// native SHA-1 runs with four lanes (sha1-native.ts), four pieces are read a chunk each in turn and hashed
// together, as the hashing threads do with pieces received.
import { pieceSize } from "../../shared/metainfo/types.ts";
import { FileSet } from "../storage/file-set.ts";
import { forEachSpan, type FileSpan } from "../storage/layout.ts";
import { OutputFolder } from "../storage/output-folder.ts";
import { PartsFile } from "../storage/parts-file.ts";
import { type NativeSha1, nativeSha1 } from "./sha1-native.ts";

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
/** The four lanes' chunks (checkFour), made on first use. */
let laneChunks: Uint8Array[] | null = null;
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
  const sha1 = nativeSha1();
  const expected = (k: number) => range.hashes.subarray(k * 20, k * 20 + 20);
  try {
    let k = 0;
    if (sha1?.lanes === 4) for (; k + 4 <= range.count; k += 4) checkFour(layout, files, parts, range.first + k, expected, k, ok, sha1);
    for (; k < range.count; k++) ok[k] = checkPiece(layout, files, parts, range.first + k, expected(k)) ? 1 : 0;
  } finally {
    parts.close();
    files.close();
  }
  return ok;
}

/** Reads `length` bytes of piece `index` at `offset` into `buffer`; false when they are not all on disk. */
function readPart(layout: DiskLayout, set: FileSet, sideFile: PartsFile, index: number, offset: number, buffer: Uint8Array, length: number): boolean {
  let whole = true;
  forEachSpan(set.files, index * layout.pieceLength + offset, length, (i, position, n, at) => {
    if (whole && !set.read(i, buffer, at, n, position) && !sideFile.read(index, buffer, at, n, offset + at)) whole = false;
  });
  return whole;
}

/**
 * Pieces first..first+3 (range positions k..k+3), a chunk of each in turn, hashed on four lanes while all
 * four have the same whole blocks there, one lane at a time otherwise (a short last piece, a piece not on disk).
 */
function checkFour(
  layout: DiskLayout,
  set: FileSet,
  sideFile: PartsFile,
  first: number,
  expected: (k: number) => Uint8Array,
  k: number,
  ok: Uint8Array,
  sha1: NativeSha1,
): void {
  laneChunks ??= [0, 1, 2, 3].map(() => new Uint8Array(CHUNK));
  const chunks = laneChunks;
  const sizes = [0, 1, 2, 3].map((lane) => pieceSize(layout, first + lane));
  const live = [true, true, true, true];
  const lengths = [0, 0, 0, 0];
  for (let lane = 0; lane < 4; lane++) sha1.begin(lane);
  const longest = Math.max(...sizes);
  for (let done = 0; done < longest; done += CHUNK) {
    for (let lane = 0; lane < 4; lane++) {
      lengths[lane] = live[lane] ? Math.max(0, Math.min(CHUNK, sizes[lane]! - done)) : 0;
      if (lengths[lane]! > 0 && !readPart(layout, set, sideFile, first + lane, done, chunks[lane]!, lengths[lane]!)) {
        live[lane] = false;
        lengths[lane] = 0;
      }
    }
    const n0 = lengths[0]!;
    const together = n0 > 0 && (n0 & 63) === 0 && lengths[1] === n0 && lengths[2] === n0 && lengths[3] === n0;
    if (together) sha1.update4(n0 === CHUNK ? chunks : chunks.map((c) => c.subarray(0, n0)));
    for (let lane = 0; lane < 4; lane++) {
      const n = lengths[lane]!;
      if (n === 0) continue;
      const bytes = chunks[lane]!.subarray(0, n);
      if (!together) sha1.update(lane, bytes);
      if (done + n < sizes[lane]!) continue;
      sha1.end(lane, bytes, sizes[lane]!, digest);
      ok[k + lane] = matches(digest, expected(k + lane)) ? 1 : 0;
    }
  }
}

function matches(digest: Uint8Array, expected: Uint8Array): boolean {
  if (expected.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (digest[i] !== expected[i]) return false;
  return true;
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
    whole = readPart(layout, set, sideFile, index, done, buffer, n);
    if (whole) hasher.update(buffer.subarray(0, n));
  }
  hasher.digest(digest); // also resets the hasher for the next piece
  return whole && matches(digest, expected);
}
