// Test data on disk: deterministic pseudo-random files and streaming checksums.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const CHUNK = 4 * 1024 * 1024;

/**
 * Writes `size` bytes of pseudo-random data derived from `seed` (xorshift128): the same seed gives
 * the same bytes on every machine, every chunk differs, and it runs at well over 1 GB/s.
 */
export function makeRandomFile(file: string, size: number, seed = 1): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "w");
  try {
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(size, 4)));
    const words = new Uint32Array(buf.buffer, 0, buf.length >>> 2);
    // Seed the four state words so that nearby seeds still give unrelated streams.
    let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
    let y = Math.imul(seed, 0x85ebca6b) >>> 0 || 2;
    let z = Math.imul(seed ^ 0xdeadbeef, 0xc2b2ae35) >>> 0 || 3;
    let w = (seed * 2654435761) >>> 0 || 4;
    let written = 0;
    while (written < size) {
      for (let i = 0; i < words.length; i++) {
        const t = x ^ (x << 11);
        x = y;
        y = z;
        z = w;
        w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
        words[i] = w;
      }
      const n = Math.min(buf.length, size - written);
      fs.writeSync(fd, buf, 0, n, written);
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function hashFile(file: string, algorithm: "sha256" | "sha1"): Promise<string> {
  const hasher = new Bun.CryptoHasher(algorithm);
  const fd = fs.openSync(file, "r");
  try {
    const buf = new Uint8Array(CHUNK);
    let position = 0;
    for (;;) {
      const n = await new Promise<number>((resolve, reject) =>
        fs.read(fd, buf, 0, buf.length, position, (err, bytes) => (err ? reject(err) : resolve(bytes))),
      );
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
