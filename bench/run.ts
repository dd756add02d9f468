// `npm run bench`: every micro-benchmark in one table, each figure next to its reference measured in
// the same run, medians over several rounds.
//
//   bun bench/run.ts [--quick] [--json] [--verify-gib N | --no-verify]
//   (the 4 GiB verification target: bun bench/verify.ts --gib 4)
import * as fs from "node:fs";
import { benchCodec } from "../peer/bench/codec.ts";
import { benchPool } from "./pool.ts";
import { benchRc4 } from "../peer/bench/rc4.ts";
import { benchSha1 } from "../peer/bench/sha1.ts";
import { formatTable, rowsAsJson, type Row } from "../peer/bench/table.ts";
import { benchVerify } from "../peer/bench/verify.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const json = args.includes("--json");
const gibAt = args.indexOf("--verify-gib");
const verifyGib = args.includes("--no-verify") ? 0 : gibAt >= 0 ? Number(args[gibAt + 1]) : quick ? 0.25 : 1;
const rounds = quick ? 1 : 5;
const time = quick ? 100 : 300;

const rows: Row[] = [];
const section = async (name: string, run: () => Promise<Row[]>) => {
  if (!json) process.stderr.write(`running ${name}...\n`);
  rows.push(...(await run()));
};

await section("SHA-1", () => benchSha1({ rounds, time }));
await section("wire codec", () => benchCodec({ rounds, time }));
await section("MSE RC4", () => benchRc4({ rounds, time }));
await section("buffer pool", () => benchPool({ rounds, heapOps: quick ? 1_000_000 : 5_000_000 }));
// The tracker's in-process bench lives with the tracker; include it when it is there.
const trackerBench = new URL("./tracker-inprocess.ts", import.meta.url);
if (fs.existsSync(trackerBench)) {
  const mod = (await import(trackerBench.href)) as { benchTrackerInProcess?: (o: { rounds?: number; time?: number }) => Promise<Row[]> };
  if (mod.benchTrackerInProcess) await section("tracker in-process", () => mod.benchTrackerInProcess!({ rounds, time }));
}
if (verifyGib > 0) await section(`parallel verification (${verifyGib} GiB)`, () => benchVerify({ gib: verifyGib, rounds: quick ? 1 : 3 }));

console.log(json ? rowsAsJson(rows) : formatTable(rows));
