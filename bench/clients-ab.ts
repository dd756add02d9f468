// Alternated A/B pairs of one bench:clients cell, btpeer → btpeer, for comparing two builds (or two
// settings) of the leecher on a machine that other work shares: each pair runs back to back, and the
// comparison is made within pairs. The seeder is the same build in every transfer (--seeder, default A),
// unless --seeder-b gives B's transfers a seeder of their own (to compare seeders, with --a = --b).
// Each side is a command line, so a setting can ride on `env`:
//
//   bun bench/clients-ab.ts --a "/tmp/old/btpeer" --b "dist/btpeer" [--pairs 5] [--size 1G] [--piece 1M]
//   bun bench/clients-ab.ts --a "env BTPEER_DIRECT_IO=0 dist/btpeer" --b "dist/btpeer"
//   bun bench/clients-ab.ts --a dist/btpeer --b dist/btpeer --seeder-b "env BTPEER_SPLICE=0 dist/btpeer"
//   bun bench/clients-ab.ts --a "env BTPEER_HUGE_PAGES=0 dist/btpeer" --b dist/btpeer --seeder libtorrent
//
// Prints per transfer MB/s, the leecher's and the seeder's CPU s/GiB and the machine's CPU s/GiB (as bench:clients does),
// then per pair B against A, and the medians.
import { makeTempDir, removeDir } from "../test/support/files.ts";
import { stopAllServices } from "../test/support/processes.ts";
import type { BenchClient } from "./clients/adapter.ts";
import { btpeerClient } from "./clients/btpeer.ts";
import { libtorrentClient } from "./clients/libtorrent.ts";
import { parseOptions } from "./clients/options.ts";
import type { Cell } from "./clients/report.ts";
import { BenchTracker } from "./clients/tracker.ts";
import { Bench } from "./clients/transfer.ts";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const command = (text: string) => text.split(/\s+/).filter((part) => part.length > 0);
const a = command(arg("a"));
const b = command(arg("b"));
const seederCmd = command(arg("seeder", arg("a")));
/** The seeder of B's transfers, to compare seeder builds or settings; default: the same seeder as A's. */
const seederBCmd = command(arg("seeder-b", seederCmd.join(" ")));
const pairs = Number(arg("pairs", "5"));
const o = parseOptions(["--size", arg("size", "1G"), "--piece", arg("piece", "1M")]);

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const line = (c: Cell) =>
  `${c.mbps.toFixed(0)} MB/s, leecher ${c.leecherCpuPerGiB.toFixed(2)} s/GiB, seeder ${c.seederCpuPerGiB.toFixed(2)} s/GiB, machine ${c.machineCpuPerGiB.toFixed(2)} s/GiB`;

const tmp = makeTempDir("bench-clients-ab-");
const tracker = await BenchTracker.start();
const bench = new Bench(o, tmp, tracker);
const results: { a: Cell; b: Cell }[] = [];
try {
  bench.prepare();
  await bench.sumsOfSeed();
  // `--seeder libtorrent`: the bench's libtorrent seeder (python3-libtorrent), as bench:clients runs it.
  const seederOf = (cmd: string[]): BenchClient => (cmd.join(" ") === "libtorrent" ? libtorrentClient : btpeerClient(cmd));
  const seeders = { a: seederOf(seederCmd), b: seederOf(seederBCmd) };
  for (let p = 1; p <= pairs; p++) {
    // A first in odd pairs, B first in even ones: neither side always runs on the warmer machine.
    const order: ["a" | "b", string[]][] =
      p % 2 === 1
        ? [
            ["a", a],
            ["b", b],
          ]
        : [
            ["b", b],
            ["a", a],
          ];
    const pair: Partial<Record<"a" | "b", Cell>> = {};
    for (const [side, cmd] of order) {
      pair[side] = await bench.cell(seeders[side] === libtorrentClient ? "from-libtorrent" : "from-btpeer", seeders[side], btpeerClient(cmd));
      console.log(`pair ${p} ${side.toUpperCase()}: ${line(pair[side]!)}`);
    }
    results.push({ a: pair.a!, b: pair.b! });
  }
  await bench.settle();
} finally {
  await stopAllServices();
  await tracker.stop();
  removeDir(tmp);
}
console.log(
  `A = ${a.join(" ")}\nB = ${b.join(" ")}\nseeder = ${seederCmd.join(" ")}${seederBCmd.join(" ") === seederCmd.join(" ") ? "" : `, of B: ${seederBCmd.join(" ")}`}`,
);
for (const [i, r] of results.entries()) {
  console.log(
    `pair ${i + 1}: MB/s ${r.a.mbps.toFixed(0)} → ${r.b.mbps.toFixed(0)}; leecher s/GiB ${r.a.leecherCpuPerGiB.toFixed(2)} → ${r.b.leecherCpuPerGiB.toFixed(2)}; seeder s/GiB ${r.a.seederCpuPerGiB.toFixed(2)} → ${r.b.seederCpuPerGiB.toFixed(2)}; machine s/GiB ${r.a.machineCpuPerGiB.toFixed(2)} → ${r.b.machineCpuPerGiB.toFixed(2)}`,
  );
}
for (const [key, label] of [
  ["mbps", "MB/s"],
  ["leecherCpuPerGiB", "leecher CPU s/GiB"],
  ["seederCpuPerGiB", "seeder CPU s/GiB"],
  ["machineCpuPerGiB", "machine CPU s/GiB"],
] as const) {
  const wins = results.filter((r) => (key === "mbps" ? r.b[key] > r.a[key] : r.b[key] < r.a[key])).length;
  console.log(
    `${label}: median A ${median(results.map((r) => r.a[key])).toFixed(2)}, B ${median(results.map((r) => r.b[key])).toFixed(2)}; B better in ${wins} of ${results.length} pairs`,
  );
}
