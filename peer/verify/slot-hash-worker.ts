// The download's hashing thread: checks finished pieces where they lie in the (shared) piece pool, so the
// main thread only receives blocks. Nothing is copied between threads: a job names a piece and its place
// in the pool. Built into the binary as its own entry point (see the `build` script).
import { matchesPieceHash, type SlotHashReply, type SlotHashRequest } from "./slot-hash-protocol.ts";

declare const self: Worker;

const hasher = new Bun.CryptoHasher("sha1");
// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digest = new Uint8Array(64);
let pool: Uint8Array | undefined;
let pieceHashes: Uint8Array | undefined;

self.onmessage = (event: MessageEvent<SlotHashRequest>) => {
  const m = event.data;
  if (m.type === "init") {
    pool = new Uint8Array(m.pool);
    pieceHashes = m.pieceHashes;
    return;
  }
  let reply: SlotHashReply;
  if (!pool || !pieceHashes) reply = { type: "error", id: m.id, message: "hash job before init" };
  else {
    hasher.update(pool.subarray(m.offset, m.offset + m.length));
    hasher.digest(digest); // also resets the hasher for the next piece
    reply = { type: "result", id: m.id, ok: matchesPieceHash(digest, pieceHashes, m.index) };
  }
  self.postMessage(reply);
};
