// One of the client's hashing threads: checks finished pieces where they lie in their torrent's (shared)
// piece pool, so the main thread only receives blocks. Nothing is copied between threads: a job names a
// registered pool and a piece's place in it. A torrent's check of its data on disk sends ranges of pieces the
// thread reads and hashes itself. Built into the binary as its own entry point (see `build`).
import { StorageError } from "../storage/errors.ts";
import { checkRange } from "./disk-check.ts";
import { matchesPieceHash, type HashPoolReply, type HashPoolRequest } from "./hash-pool-protocol.ts";

declare const self: Worker;

const hasher = new Bun.CryptoHasher("sha1");
// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digest = new Uint8Array(64);
const pools = new Map<number, { bytes: Uint8Array; pieceHashes: Uint8Array }>();

self.onmessage = (event: MessageEvent<HashPoolRequest>) => {
  const m = event.data;
  switch (m.type) {
    case "register":
      pools.set(m.registration, { bytes: new Uint8Array(m.pool), pieceHashes: m.pieceHashes });
      return;
    case "unregister":
      pools.delete(m.registration); // the pool's memory is the main thread's to free now
      return;
    case "check": {
      const pool = pools.get(m.registration);
      let reply: HashPoolReply;
      if (!pool) reply = { type: "error", job: m.job, message: `hash job for unknown registration ${m.registration}` };
      else {
        hasher.update(pool.bytes.subarray(m.offset, m.offset + m.length));
        hasher.digest(digest); // also resets the hasher for the next piece
        reply = { type: "result", job: m.job, ok: matchesPieceHash(digest, pool.pieceHashes, m.index) };
      }
      self.postMessage(reply);
      return;
    }
    case "check-disk": {
      let reply: HashPoolReply;
      try {
        const ok = checkRange(m.range);
        reply = { type: "disk-result", job: m.job, ok };
      } catch (error) {
        if (!(error instanceof StorageError)) reply = { type: "error", job: m.job, message: String(error) };
        else reply = { type: "disk-error", job: m.job, code: error.code, message: error.message };
      }
      self.postMessage(reply);
    }
  }
};
