// Memory stays flat while `btpeer create` hashes a large input: peak RSS of the real command on a
// 1 GiB and a 10 GiB sparse file (made with truncate: no disk space used, reads return zeros), each
// the median of a few runs, compared with each other in the same run. Hashing throughput is shown too.
// Bounded: every run is killed after RUN_LIMIT_S seconds. Run: `bun bench/create-memory.ts [--rounds N]`
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { sampleMemory } from "./memory-sampler.ts";
import { formatTable, median, type Row } from "../peer/bench/table.ts";

const CLI = path.resolve(import.meta.dir, "../peer/cli.ts");
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const RUN_LIMIT_S = 120;

const { values } = parseArgs({ args: process.argv.slice(2), options: { rounds: { type: "string", default: "3" } } });
const rounds = Math.max(1, Number(values.rounds));

interface RunResult {
  peakRss: number;
  seconds: number;
}

async function runCreate(input: string, out: string): Promise<RunResult> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, CLI, "create", input, "--no-date", "--force", "-o", out], { stdout: "ignore", stderr: "pipe" });
  const memory = sampleMemory(proc.pid, 5); // the 1 KiB run lasts only a few tens of milliseconds
  const timer = setTimeout(() => proc.kill(), RUN_LIMIT_S * 1000);
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  const peaks = memory.stop();
  clearTimeout(timer);
  if (code !== 0) throw new Error(`btpeer create ${input} failed (exit ${code}): ${stderr.trim()}`);
  if (!peaks) throw new Error(`btpeer create ${input} ended before its memory could be read`);
  return { peakRss: peaks.peakRss, seconds: (performance.now() - started) / 1000 };
}

async function baseline(dir: string): Promise<number> {
  // The runtime's own footprint: the same CLI on a tiny input.
  const tiny = path.join(dir, "tiny.bin");
  fs.writeFileSync(tiny, new Uint8Array(1024));
  const results: number[] = [];
  for (let i = 0; i < rounds; i++) results.push((await runCreate(tiny, path.join(dir, "tiny.torrent"))).peakRss);
  return median(results);
}

async function measure(dir: string, size: number): Promise<{ rss: number; rate: number }> {
  const file = path.join(dir, `sparse-${size / GiB}GiB.bin`);
  fs.closeSync(fs.openSync(file, "w"));
  fs.truncateSync(file, size);
  const rss: number[] = [];
  const rate: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await runCreate(file, path.join(dir, "out.torrent"));
    rss.push(r.peakRss);
    rate.push(size / MiB / r.seconds);
  }
  fs.rmSync(file);
  return { rss: median(rss), rate: median(rate) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-create-memory-"));
try {
  console.log(`btpeer create peak RSS, median of ${rounds} runs each (sparse files, page-cache reads, native SHA-1)\n`);
  const base = await baseline(dir);
  const one = await measure(dir, 1 * GiB);
  const ten = await measure(dir, 10 * GiB);
  const rows: Row[] = [
    { figure: "peak RSS, 1 KiB input (runtime baseline)", value: base / MiB, unit: "MiB", reference: { note: "Bun + CLI footprint" } },
    { figure: "peak RSS, 1 GiB input", value: one.rss / MiB, unit: "MiB", reference: { label: "1 KiB input", value: base / MiB } },
    { figure: "peak RSS, 10 GiB input", value: ten.rss / MiB, unit: "MiB", reference: { label: "1 GiB input", value: one.rss / MiB }, target: "≈ 1.0 (flat)" },
    { figure: "hashing rate, 10 GiB input", value: ten.rate, unit: "MiB/s", reference: { label: "1 GiB input", value: one.rate } },
  ];
  console.log(formatTable(rows));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
