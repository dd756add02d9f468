// Parallel verification of data already in the page cache: all cores vs one worker, and one worker vs
// `openssl speed` on one core. `bun bench/verify.ts --gib 4` runs the full 4 GiB case on its own.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import * as path from "node:path";
import type { InfoHash } from "../../shared/ids.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { verifyExisting } from "../storage/index.ts";
import { opensslSha1 } from "./openssl.ts";
import { medianOf, type Row } from "./table.ts";

const PIECE = 1 << 20;
// The file repeats one 16 MiB random pattern, so the expected hashes cost 16 hashes, not the whole file.
const PATTERN = 16 << 20;

function writeData(file: string, bytes: number): Metainfo {
  const pattern = new Uint8Array(PATTERN);
  for (let at = 0; at < PATTERN; at += 65536) crypto.getRandomValues(pattern.subarray(at, at + 65536));
  const fd = fs.openSync(file, "w");
  for (let at = 0; at < bytes; at += PATTERN) fs.writeSync(fd, pattern, 0, Math.min(PATTERN, bytes - at), at);
  fs.closeSync(fd);
  const pieceCount = Math.ceil(bytes / PIECE);
  const patternHashes = Array.from({ length: PATTERN / PIECE }, (_, i) =>
    createHash("sha1")
      .update(pattern.subarray(i * PIECE, (i + 1) * PIECE))
      .digest(),
  );
  const pieceHashes = new Uint8Array(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) pieceHashes.set(patternHashes[i % patternHashes.length]!, i * 20);
  return {
    infoHash: new Uint8Array(20) as InfoHash,
    infoBytes: new Uint8Array(0),
    name: path.basename(file),
    pieceLength: PIECE,
    pieceCount,
    pieceHashes,
    length: bytes,
    multiFile: false,
    files: [{ path: [path.basename(file)], length: bytes, offset: 0 }],
    announceList: [],
    urlList: [],
    private: false,
    warnings: [],
  };
}

export interface VerifyBenchOptions {
  gib?: number;
  rounds?: number;
  workers?: number;
}

export async function benchVerify(opts: VerifyBenchOptions = {}): Promise<Row[]> {
  const gib = opts.gib ?? 1;
  const rounds = opts.rounds ?? 3;
  const workers = opts.workers ?? availableParallelism();
  // Whole pieces, so every expected hash is one of the pattern's.
  const bytes = Math.max(1, Math.round((gib * 1024 ** 3) / PIECE)) * PIECE;
  const dir = fs.mkdtempSync(path.join(tmpdir(), "btpeer-bench-verify-"));
  try {
    const meta = writeData(path.join(dir, "data.bin"), bytes);
    const rate = (n: number) => async () => {
      const start = performance.now();
      const have = await verifyExisting(meta, dir, { workers: n });
      const seconds = (performance.now() - start) / 1000;
      if (!have.isComplete()) throw new Error(`verification found ${have.count()}/${meta.pieceCount} pieces`);
      return bytes / 1e6 / seconds;
    };
    await rate(1)(); // warm the page cache and the workers' code
    const one = await medianOf(rounds, rate(1));
    const all = await medianOf(rounds, rate(workers));
    const openssl = await medianOf(rounds, () => opensslSha1(PIECE) ?? Number.NaN);
    const size = `${gib} GiB in page cache, 1 MiB pieces`;
    return [
      {
        figure: `verify ${size}, ${workers} workers`,
        value: all,
        unit: "MB/s",
        reference: { label: "1 worker", value: one },
        target: workers === 2 ? ">= 1.8" : undefined,
      },
      {
        figure: `verify ${size}, 1 worker`,
        value: one,
        unit: "MB/s",
        reference: Number.isNaN(openssl) ? { note: "openssl not installed" } : { label: "openssl speed -evp sha1, 1 core", value: openssl },
        target: ">= 0.9",
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
