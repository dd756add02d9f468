// Data sets and small figures for bench:swarm.
import path from "node:path";
import { parseSize as parseSizeOrNull } from "../../peer/cli/command-args.ts";
import { makeRandomFile } from "../../test/support/files.ts";

/** "64M", "1G", "512K", "1048576" → bytes (binary units), as btpeer's own options read them. */
export function parseSize(text: string): number {
  const bytes = parseSizeOrNull(text);
  if (bytes === null) throw new Error(`bad size "${text}": use e.g. 64M, 1G`);
  return bytes;
}

export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} B`;
}

/**
 * `count` files of sizes spread deterministically in [min, max] bytes, in a few nested folders (so
 * file boundaries fall inside pieces everywhere); returns the total size.
 */
export function makeSmallFiles(dir: string, count: number, min: number, max: number, seed: number): number {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  let total = 0;
  for (let i = 0; i < count; i++) {
    const size = Math.floor(min + next() * (max - min + 1));
    const folder = `d${String(i % 10).padStart(2, "0")}`;
    makeRandomFile(path.join(dir, folder, `f${String(i).padStart(4, "0")}.bin`), size, seed * 10_000 + i);
    total += size;
  }
  return total;
}
