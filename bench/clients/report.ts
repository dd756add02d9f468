// bench:clients' results: each cell (one seeder → leecher transfer) summed up by its medians, printed as
// Markdown tables with the targets the README names, drawn as an SVG chart, and written as JSON if asked.
import fs from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { median } from "../../peer/bench/table.ts";
import { formatSize } from "../swarm/data.ts";
import type { BenchClient } from "./adapter.ts";
import { chartSvg } from "./chart.ts";

export interface Cell {
  group: "from-btpeer" | "from-libtorrent" | "btpeer-from";
  seeder: string;
  leecher: string;
  mbps: number;
  leecherCpuPerGiB: number;
  seederCpuPerGiB: number;
  machineCpuPerGiB: number;
  peakRss: number;
  peakAnon: number;
  /** The round it ran in (bench:clients; clients-ab leaves it out). */
  round?: number;
}

/** What the report takes of bench:clients' options. */
export interface ReportOptions {
  size: number;
  rounds: number;
  pieceLength: number;
  json: string | null;
  svg: string;
}

interface Summary {
  mbps: number;
  leecherCpu: number;
  seederCpu: number;
  machineCpu: number;
  peakRss: number;
  peakAnon: number;
}

function summarize(cells: Cell[]): Summary | null {
  if (cells.length === 0) return null;
  return {
    mbps: median(cells.map((c) => c.mbps)),
    leecherCpu: median(cells.map((c) => c.leecherCpuPerGiB)),
    seederCpu: median(cells.map((c) => c.seederCpuPerGiB)),
    machineCpu: median(cells.map((c) => c.machineCpuPerGiB)),
    peakRss: Math.max(...cells.map((c) => c.peakRss)),
    peakAnon: Math.max(...cells.map((c) => c.peakAnon)),
  };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export function report(cells: Cell[], clients: BenchClient[], sha1: number | null, o: ReportOptions): void {
  const pick = (group: Cell["group"], seeder: string | null, leecher: string | null) =>
    summarize(cells.filter((c) => c.group === group && (seeder === null || c.seeder === seeder) && (leecher === null || c.leecher === leecher)));
  const label = (id: string) => clients.find((c) => c.id === id)?.label ?? id;
  const table = (title: string, rows: [string, Summary | null][], who: string) => {
    if (rows.every(([, s]) => !s)) return; // a group left out (--groups)
    console.log(`\n${title}`);
    console.log(`| ${who} | MB/s | leecher CPU s/GiB | seeder CPU s/GiB | machine CPU s/GiB | leecher peak RSS | leecher peak anon RSS |`);
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const [name, s] of rows) {
      if (!s) continue;
      console.log(
        `| ${name} | ${s.mbps.toFixed(0)} | ${s.leecherCpu.toFixed(2)} | ${s.seederCpu.toFixed(2)} | ${s.machineCpu.toFixed(2)} | ${mib(s.peakRss)} | ${mib(s.peakAnon)} |`,
      );
    }
  };
  table(
    "Each client leeching from a btpeer seeder",
    clients.map((c) => [label(c.id), pick("from-btpeer", null, c.id)]),
    "leecher",
  );
  table(
    "Each client leeching from a libtorrent seeder",
    clients.map((c) => [label(c.id), pick("from-libtorrent", null, c.id)]),
    "leecher",
  );
  table(
    "btpeer leeching from each client as the seeder",
    clients.filter((c) => c.id !== "btpeer" && c.id !== "libtorrent").map((c) => [label(c.id), pick("btpeer-from", c.id, null)]),
    "seeder",
  );
  console.log("\nHow each client is set up:");
  for (const c of clients) console.log(`  ${c.label}: ${c.settings}; DHT, LSD, PEX and port mapping off; loopback only`);

  console.log("\nTargets (same run):");
  for (const group of ["from-btpeer", "from-libtorrent"] as const) {
    const rates = clients.map((c) => [c.id, pick(group, null, c.id)?.mbps ?? 0] as const).sort((a, b) => b[1] - a[1]);
    const ours = rates.find(([id]) => id === "btpeer")![1];
    const next = rates.find(([id]) => id !== "btpeer");
    if (!next || ours === 0 || next[1] === 0) continue; // the group did not run (--groups)
    console.log(
      `  fastest leecher ${group.replace("from-", "from the ")} seeder: btpeer ${ours.toFixed(0)} MB/s ÷ next (${label(next[0])} ${next[1].toFixed(0)}) = ${(ours / next[1]).toFixed(2)}× (target ≥ 1.2)${roundByRound(cells, group, next[0])}`,
    );
  }
  for (const c of clients.filter((x) => x.id !== "btpeer")) {
    const fromUs = pick("from-btpeer", null, c.id)?.mbps;
    const fromLt = pick("from-libtorrent", null, c.id)?.mbps;
    if (fromUs && fromLt) console.log(`  ${label(c.id)} from btpeer ÷ from libtorrent: ${(fromUs / fromLt).toFixed(2)}× (target ≥ 1.0)`);
  }
  const btbt = pick("from-btpeer", "btpeer", "btpeer");
  const ltlt = pick("from-libtorrent", "libtorrent", "libtorrent");
  if (btbt && sha1)
    console.log(
      `  btpeer → btpeer ${btbt.mbps.toFixed(0)} MB/s ÷ openssl speed -evp sha1 on one core ${sha1.toFixed(0)} MB/s = ${(btbt.mbps / sha1).toFixed(2)} (target ≥ 0.5)`,
    );
  if (btbt && ltlt)
    console.log(
      `  machine CPU per GiB, btpeer → btpeer ${btbt.machineCpu.toFixed(2)} s ÷ libtorrent → libtorrent ${ltlt.machineCpu.toFixed(2)} s = ${(btbt.machineCpu / ltlt.machineCpu).toFixed(2)} (target ≤ 0.5)`,
    );

  fs.mkdirSync(path.dirname(o.svg), { recursive: true });
  fs.writeFileSync(
    o.svg,
    chartSvg(
      clients.map((c) => ({
        label: c.label,
        fromBtpeer: pick("from-btpeer", null, c.id)?.mbps ?? null,
        fromLibtorrent: pick("from-libtorrent", null, c.id)?.mbps ?? null,
        btpeerFromIt:
          c.id === "btpeer"
            ? null
            : c.id === "libtorrent"
              ? (pick("from-libtorrent", "libtorrent", "btpeer")?.mbps ?? null)
              : (pick("btpeer-from", c.id, null)?.mbps ?? null),
      })),
      `${formatSize(o.size)} on loopback, median of ${o.rounds} round${o.rounds === 1 ? "" : "s"}; ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the end`,
    ),
  );
  console.log(`\nchart: ${o.svg}`);
  if (o.json) {
    fs.writeFileSync(o.json, `${JSON.stringify({ size: o.size, pieceLength: o.pieceLength, rounds: o.rounds, opensslSha1: sha1, cells }, null, 1)}\n`);
    console.log(`figures: ${o.json}`);
  }
}

/** btpeer's rate over `other`'s in each round where both leeched in `group` (empty with fewer than two such rounds). */
function roundByRound(cells: Cell[], group: Cell["group"], other: string): string {
  const ratios: string[] = [];
  for (const c of cells) {
    if (c.group !== group || c.leecher !== "btpeer" || c.round === undefined) continue;
    const them = cells.find((x) => x.group === group && x.leecher === other && x.round === c.round);
    if (them) ratios.push(`${(c.mbps / them.mbps).toFixed(2)}×`);
  }
  return ratios.length > 1 ? `; round by round ${ratios.join(", ")}` : "";
}
