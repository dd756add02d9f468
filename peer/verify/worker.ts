// A hashing worker of `btpeer verify`/`bench` (verifyExisting without the client's pool): reads its pieces
// straight from disk into its own small buffer (no hand-off copy from the main thread at all) and hashes them.
// Built into the binary as its own entry point (see the `build` script).
import { pieceSize } from "../../shared/metainfo/types.ts";
import { StorageError } from "../storage/errors.ts";
import { checkRange } from "./disk-check.ts";
import type { FromWorker, InitMessage, ToWorker } from "./protocol.ts";

declare const self: Worker;

let init: InitMessage | undefined;

function post(m: FromWorker, transfer?: Transferable[]): void {
  self.postMessage(m, transfer ?? []);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  try {
    if (m.type === "init") {
      init = m;
      return;
    }
    if (!init) throw new Error("job before init");
    // checkRange closes the files before the result goes back: the check terminates its workers once it has
    // every result, and descriptors a terminated worker still held would stay open in the process for good.
    const hashes = init.pieceHashes.subarray(m.first * 20, (m.first + m.count) * 20);
    const ok = checkRange({ layout: init, first: m.first, count: m.count, hashes });
    let bytes = 0;
    for (let k = 0; k < m.count; k++) bytes += pieceSize(init, m.first + k);
    post({ type: "result", first: m.first, ok, bytes }, [ok.buffer]);
  } catch (error) {
    const code = error instanceof StorageError ? error.code : "io";
    post({ type: "error", code, message: error instanceof Error ? error.message : String(error) });
  }
};
