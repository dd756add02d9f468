// SHA-1 throughput for piece-sized inputs: Bun.CryptoHasher one-shot and incremental over 16 KiB blocks,
// node:crypto and WebCrypto, each against `openssl speed -evp sha1` at the same size, in the same run.
import { createHash } from "node:crypto";
import { Bench } from "tinybench";
import { opensslSha1 } from "./openssl.ts";
import { median, type Row } from "./table.ts";

const BLOCK = 16 * 1024;
export const PIECE_SIZES = [256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

const label = (bytes: number) => (bytes >= 1 << 20 ? `${bytes >> 20} MiB` : `${bytes >> 10} KiB`);

export interface Sha1Options {
  rounds?: number;
  /** tinybench time budget per task and round, ms. */
  time?: number;
  sizes?: number[];
}

export async function benchSha1(opts: Sha1Options = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 3;
  const rows: Row[] = [];
  for (const size of opts.sizes ?? PIECE_SIZES) {
    const piece = fill(size);
    const hasher = new Bun.CryptoHasher("sha1");
    const out = new Uint8Array(64);
    const tasks: [string, () => unknown][] = [
      [
        "Bun.CryptoHasher one-shot",
        () => {
          hasher.update(piece);
          hasher.digest(out);
        },
      ],
      [
        "Bun.CryptoHasher incremental 16 KiB",
        () => {
          for (let at = 0; at < size; at += BLOCK) hasher.update(piece.subarray(at, at + BLOCK));
          hasher.digest(out);
        },
      ],
      ["node:crypto createHash", () => createHash("sha1").update(piece).digest()],
      ["crypto.subtle.digest", () => crypto.subtle.digest("SHA-1", piece)],
    ];
    const perTask = new Map<string, number[]>();
    const reference: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const bench = new Bench({ time: opts.time ?? 300, warmupTime: 50 });
      for (const [name, fn] of tasks) bench.add(name, fn);
      await bench.run();
      for (const task of bench.tasks) {
        const result = task.result;
        if (result.state !== "completed") throw new Error(`${task.name}: ${result.state}`);
        const mbps = (result.throughput.p50 * size) / 1e6;
        perTask.set(task.name, [...(perTask.get(task.name) ?? []), mbps]);
      }
      const ref = opensslSha1(size);
      if (ref !== null) reference.push(ref);
    }
    for (const [name] of tasks) {
      rows.push({
        figure: `SHA-1 ${name}, ${label(size)} pieces`,
        value: median(perTask.get(name)!),
        unit: "MB/s",
        reference: reference.length ? { label: "openssl speed -evp sha1", value: median(reference) } : { note: "openssl not installed" },
        target: name.startsWith("Bun") ? ">= 0.9" : undefined,
      });
    }
  }
  return rows;
}

function fill(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}
