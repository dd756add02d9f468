// Test data on disk: deterministic pseudo-random files and streaming checksums.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const CHUNK = 4 * 1024 * 1024;

/**
 * Writes `size` bytes of pseudo-random data derived from `seed`: the same seed gives the same bytes on
 * every machine, and every 16 KiB block differs from every other block of this and any other seed's
 * file (a stamp of seed, chunk and block index over a fixed xorshift128 pattern that each seed enters at
 * its own offset), so misplaced blocks or pieces never hash right by accident. Runs at page-cache speed.
 */
export function makeRandomFile(file: string, size: number, seed = 1): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const chunk = Math.min(CHUNK, Math.max(STAMP_EVERY, Math.ceil(size / STAMP_EVERY) * STAMP_EVERY));
  const buf = new Uint8Array(chunk);
  const view = new DataView(buf.buffer);
  const p = pattern();
  const offset = ((Math.imul(seed >>> 0, 2654435761) >>> 0) % (CHUNK / 64)) * 64;
  const fd = fs.openSync(file, "w");
  try {
    for (let index = 0, written = 0; written < size; index++) {
      // The pattern from `offset` on, wrapping around: two copies, no per-byte work.
      const head = Math.min(chunk, CHUNK - offset);
      buf.set(p.subarray(offset, offset + head));
      if (head < chunk) buf.set(p.subarray(0, chunk - head), head);
      for (let block = 0; block < chunk / STAMP_EVERY; block++) {
        const at = block * STAMP_EVERY;
        view.setUint32(at, seed >>> 0, true);
        view.setUint32(at + 4, index, true);
        view.setUint32(at + 8, block, true);
      }
      const n = Math.min(chunk, size - written);
      fs.writeSync(fd, buf, 0, n, written);
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

const STAMP_EVERY = 16 * 1024;
let cachedPattern: Uint8Array | undefined;

/** 4 MiB of xorshift128 output, computed once per process. */
function pattern(): Uint8Array {
  if (cachedPattern) return cachedPattern;
  const words = new Uint32Array(CHUNK / 4);
  let x = 123456789;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123;
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[i] = w;
  }
  cachedPattern = new Uint8Array(words.buffer);
  return cachedPattern;
}

async function hashFile(file: string, algorithm: "sha256" | "sha1"): Promise<string> {
  const hasher = new Bun.CryptoHasher(algorithm);
  const fd = fs.openSync(file, "r");
  try {
    const buf = new Uint8Array(CHUNK);
    let position = 0;
    for (;;) {
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, buf.length, position, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      position += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hasher.digest("hex");
}

/** Hex SHA-256 of a file, read in 4 MiB chunks without blocking the event loop. */
export const sha256File = (file: string) => hashFile(file, "sha256");
/** Hex SHA-1 of a file. */
export const sha1File = (file: string) => hashFile(file, "sha1");

/** SHA-256 of every regular file under dir, keyed by path relative to dir (for multi-file torrents). */
export async function sha256Tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = path.join(rel, entry.name);
      if (entry.isDirectory()) await walk(r);
      else if (entry.isFile()) out.set(r, await sha256File(path.join(dir, r)));
    }
  };
  await walk("");
  return out;
}

/** A fresh directory under the OS temp dir; remove it with `removeDir` in afterAll/finally. */
export function makeTempDir(prefix = "btswarm-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
