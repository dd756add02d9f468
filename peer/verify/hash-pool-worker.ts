// One of the client's hashing threads: checks finished pieces where they lie in their torrent's (shared)
// piece pool, so the main thread only receives blocks. Nothing is copied between threads: a job names a
// registered pool and a piece's place in it. A torrent's check of its data on disk sends ranges of pieces the
// thread reads and hashes itself. Two pieces sent together ("check2") are hashed together where the CPU has
// SHA-NI (sha1-native.ts: ≈1.25x the throughput of two Bun.CryptoHasher hashes). Built into the binary as its
// own entry point (see `build`).
import { StorageError } from "../storage/errors.ts";
import { checkRange } from "./disk-check.ts";
import { matchesPieceHash, type HashPoolReply, type HashPoolRequest, type PieceCheck } from "./hash-pool-protocol.ts";
import { nativeSha1 } from "./sha1-native.ts";

declare const self: Worker;

const hasher = new Bun.CryptoHasher("sha1");
// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digest = new Uint8Array(64);
const digest2 = new Uint8Array(64);
const pools = new Map<number, { bytes: Uint8Array; pieceHashes: Uint8Array }>();
const native = nativeSha1();

function unknown(c: PieceCheck): HashPoolReply {
  return { type: "error", job: c.job, message: `hash job for unknown registration ${c.registration}` };
}

function checkOne(c: PieceCheck): HashPoolReply {
  const pool = pools.get(c.registration);
  if (!pool) return unknown(c);
  hasher.update(pool.bytes.subarray(c.offset, c.offset + c.length));
  hasher.digest(digest); // also resets the hasher for the next piece
  return { type: "result", job: c.job, ok: matchesPieceHash(digest, pool.pieceHashes, c.index) };
}

function checkTwo(first: PieceCheck, second: PieceCheck): void {
  const a = pools.get(first.registration);
  const b = pools.get(second.registration);
  if (!a || !b) {
    self.postMessage(checkOne(first));
    self.postMessage(checkOne(second));
    return;
  }
  const bytesA = a.bytes.subarray(first.offset, first.offset + first.length);
  const bytesB = b.bytes.subarray(second.offset, second.offset + second.length);
  if (native) native.hash2(bytesA, bytesB, digest, digest2);
  else {
    hasher.update(bytesA);
    hasher.digest(digest);
    hasher.update(bytesB);
    hasher.digest(digest2);
  }
  self.postMessage({
    type: "result2",
    first: first.job,
    firstOk: matchesPieceHash(digest, a.pieceHashes, first.index),
    second: second.job,
    secondOk: matchesPieceHash(digest2, b.pieceHashes, second.index),
  } satisfies HashPoolReply);
}

self.onmessage = (event: MessageEvent<HashPoolRequest>) => {
  const m = event.data;
  switch (m.type) {
    case "register":
      pools.set(m.registration, { bytes: new Uint8Array(m.pool), pieceHashes: m.pieceHashes });
      return;
    case "unregister":
      pools.delete(m.registration); // the pool's memory is the main thread's to free now
      return;
    case "check":
      self.postMessage(checkOne(m));
      return;
    case "check2":
      checkTwo(m.first, m.second);
      return;
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
