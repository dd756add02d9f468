// One of the client's hashing threads: checks finished pieces where they lie in their torrent's (shared)
// piece pool, so the main thread only receives blocks. Nothing is copied between threads: a job names a
// registered pool and a piece's place in it. A torrent's check of its data on disk sends ranges of pieces the
// thread reads and hashes itself. Pieces sent together ("checks", up to four) are hashed together where the CPU
// has SHA-NI (sha1-native.ts: four at once 2.4x the throughput of Bun.CryptoHasher on AMD Zen 4). Built into
// the binary as its own entry point (see `build`).
import { StorageError } from "../storage/errors.ts";
import { checkRange } from "./disk-check.ts";
import { matchesPieceHash, type HashPoolReply, type HashPoolRequest, type PieceCheck } from "./hash-pool-protocol.ts";
import { nativeSha1 } from "./sha1-native.ts";

declare const self: Worker;

const hasher = new Bun.CryptoHasher("sha1");
// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digest = new Uint8Array(64);
/** checkMany's digests, one per check of the largest batch yet. */
const digestsOf: Uint8Array[] = [];
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

function checkMany(checks: PieceCheck[]): void {
  const jobs: number[] = [];
  const oks: boolean[] = [];
  const data: Uint8Array[] = [];
  const digests: Uint8Array[] = [];
  const known: { pieceHashes: Uint8Array; index: number }[] = [];
  for (const c of checks) {
    const pool = pools.get(c.registration);
    if (!pool) {
      self.postMessage(unknown(c));
      continue;
    }
    jobs.push(c.job);
    data.push(pool.bytes.subarray(c.offset, c.offset + c.length));
    digests.push((digestsOf[digests.length] ??= new Uint8Array(64)));
    known.push({ pieceHashes: pool.pieceHashes, index: c.index });
  }
  if (native) native.hashMany(data, digests);
  else
    for (let i = 0; i < data.length; i++) {
      hasher.update(data[i]!);
      hasher.digest(digests[i]!);
    }
  for (let i = 0; i < known.length; i++) oks.push(matchesPieceHash(digests[i]!, known[i]!.pieceHashes, known[i]!.index));
  if (jobs.length > 0) self.postMessage({ type: "results", jobs, oks } satisfies HashPoolReply);
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
    case "checks":
      checkMany(m.checks);
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
