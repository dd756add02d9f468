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
let files: FileSet | undefined;
let parts: PartsFile | undefined;

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
      parts?.close();
      files?.close();
      const folder = new OutputFolder(m.dir, { missingOk: true });
      files = new FileSet(m.files, false, folder);
      parts = new PartsFile(m.files, m.pieceLength, m.partsName, folder, false);
      return;
    }
    if (!init || !files || !parts) throw new Error("job before init");
    const ok = new Uint8Array(m.count);
    let bytes = 0;
    for (let k = 0; k < m.count; k++) {
      ok[k] = checkPiece(init, files, parts, m.first + k) ? 1 : 0;
      bytes += pieceSize(init, m.first + k);
    }
    post({ type: "result", first: m.first, ok, bytes }, [ok.buffer]);
  } catch (error) {
    const code = error instanceof StorageError ? error.code : "io";
    post({ type: "error", code, message: error instanceof Error ? error.message : String(error) });
  }
};
