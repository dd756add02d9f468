// A hashing worker for verifyExisting: reads its pieces straight from disk into its own small buffer
// (no hand-off copy from the main thread at all) and hashes them with one reused SHA-1 hasher.
// Built into the binary as its own entry point (see the `build` script).
import { pieceSize } from "../../shared/metainfo/types.ts";
import { StorageError } from "../storage/errors.ts";
import { FileSet } from "../storage/file-set.ts";
import { forEachSpan } from "../storage/layout.ts";
import { OutputFolder } from "../storage/output-folder.ts";
import { PartsFile } from "../storage/parts-file.ts";
import type { FromWorker, InitMessage, ToWorker } from "./protocol.ts";

declare const self: Worker;

// Reads of 256 KiB keep the data in cache between the copy and the hash, whatever the piece size.
const CHUNK = 256 * 1024;
const chunk = new Uint8Array(CHUNK);
const digest = new Uint8Array(64);
const hasher = new Bun.CryptoHasher("sha1");
let init: InitMessage | undefined;

function post(m: FromWorker, transfer?: Transferable[]): void {
  self.postMessage(m, transfer ?? []);
}

/**
 * True when piece `index` is fully on disk and hashes to its expected value. A file missing or short may
 * be a skipped one whose share of this piece is in the parts file.
 */
function checkPiece(meta: InitMessage, set: FileSet, sideFile: PartsFile, index: number): boolean {
  const size = pieceSize(meta, index);
  let whole = true;
  for (let done = 0; done < size && whole; done += CHUNK) {
    const n = Math.min(CHUNK, size - done);
    forEachSpan(set.files, index * meta.pieceLength + done, n, (i, position, length, at) => {
      if (whole && !set.read(i, chunk, at, length, position) && !sideFile.read(index, chunk, at, length, done + at)) whole = false;
    });
    if (whole) hasher.update(chunk.subarray(0, n));
  }
  hasher.digest(digest); // also resets the hasher for the next piece
  if (!whole) return false;
  const expected = meta.pieceHashes.subarray(index * 20, index * 20 + 20);
  for (let i = 0; i < 20; i++) if (digest[i] !== expected[i]) return false;
  return true;
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  try {
    if (m.type === "init") {
      init = m;
      return;
    }
    if (!init) throw new Error("job before init");
    // The files are opened for each job and closed before its result goes back: the check terminates its
    // workers once it has every result, and descriptors a terminated worker still held would stay open
    // in the process for good (two per check: a daemon given 10,000 torrents ran out of descriptors).
    const folder = new OutputFolder(init.dir, { missingOk: true });
    const files = new FileSet(init.files, false, folder);
    const parts = new PartsFile(init.files, init.pieceLength, init.partsName, folder, false);
    const ok = new Uint8Array(m.count);
    let bytes = 0;
    try {
      for (let k = 0; k < m.count; k++) {
        ok[k] = checkPiece(init, files, parts, m.first + k) ? 1 : 0;
        bytes += pieceSize(init, m.first + k);
      }
    } finally {
      parts.close();
      files.close();
    }
    post({ type: "result", first: m.first, ok, bytes }, [ok.buffer]);
  } catch (error) {
    const code = error instanceof StorageError ? error.code : "io";
    post({ type: "error", code, message: error instanceof Error ? error.message : String(error) });
  }
};
