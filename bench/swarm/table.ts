// bench:swarm's results: one row per configuration and size (every run's figures), printed as a Markdown
// table against libtorrent → libtorrent, with the one-to-four-leechers targets the README names.
import { availableParallelism } from "node:os";
import { median } from "../../peer/bench/table.ts";
import type { ClientKind, ClientSettings } from "./clients.ts";
import { formatSize } from "./data.ts";

export interface Row {
  config: string;
  size: string;
  seeder: ClientKind;
  leecher: ClientKind;
  leechers: number;
  /** MB/s of one leecher, or aggregate over all leechers. */
  mbps: number[];
  cpuPerGiB: number[];
  peakRss: number[];
  peakAnon: number[];
  /** Wall seconds until every leecher of a run was done. */
  seconds: number[];
  /** CPU seconds the whole machine was busy (every process: seeder, leechers, kernel) per GiB delivered. */
  machineCpuPerGiB: number[];
  /** Cores the whole machine kept busy on average during the run. */
  busyCores: number[];
  /** The seeder's CPU seconds during the run per GiB the leechers received. */
  seederCpuPerGiB: number[];
  bytes: number;
  error?: string;
}

/** What the table takes of bench:swarm's options. */
export interface TableOptions {
  pieceLength: number;
  /** btpeer --upload-limit of the seeder in the `capped` configurations. */
  seedLimit: string;
  settings: Pick<ClientSettings, "poolMiB" | "ltHighPerformance">;
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function printTable(rows: Row[], o: TableOptions): void {
  // A capped seeder sets its own pace: comparing it with uncapped libtorrent would say nothing.
  const ref = (row: Row) =>
    row.config.includes("capped") ? undefined : rows.find((r) => r.config.startsWith("lt→lt") && r.size === row.size && r.mbps.length > 0);
  console.log("");
  console.log(
    `| configuration | data | runs | MB/s (median) | × lt→lt | CPU s/GiB | × lt→lt | seeder CPU s/GiB | machine CPU s/GiB | peak RSS | peak anon RSS | all done (s) |`,
  );
  console.log(`|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of rows) {
    if (r.mbps.length === 0) {
      console.log(`| ${r.config} | ${r.size} | 0 | — | | | | | | | | | ${r.error ?? ""}`);
      continue;
    }
    const base = ref(r);
    const speed = median(r.mbps);
    const cpu = median(r.cpuPerGiB);
    const x = (v: number, b: number | undefined) => (b ? (v / b).toFixed(2) : "—");
    console.log(
      `| ${r.config} | ${r.size} | ${r.mbps.length} | ${speed.toFixed(0)} | ${x(speed, base && median(base.mbps))} | ${cpu.toFixed(2)} | ` +
        `${x(cpu, base && median(base.cpuPerGiB))} | ${median(r.seederCpuPerGiB).toFixed(2)} | ${median(r.machineCpuPerGiB).toFixed(2)} | ${mib(median(r.peakRss))} | ${mib(median(r.peakAnon))} | ${median(r.seconds).toFixed(1)} |${r.error ? ` ${r.error}` : ""}`,
    );
  }
  const find = (config: string) => rows.find((r) => r.config === config && r.mbps.length);
  const single = find("bt→bt");
  const four = find("bt→4×bt (aggregate)");
  if (single && four && single.size === four.size) {
    const singleRate = median(single.mbps);
    console.log(`\none seeder → four leechers, aggregate ÷ single leecher: ${(median(four.mbps) / singleRate).toFixed(2)} (target ≥ 1.5)`);
    // What the cores allow. Delivering a byte costs the same CPU whoever sends it (read, send, receive,
    // hash, write), so four leechers can at best keep ALL cores busy at the single run's cost per GiB:
    // N cores ÷ the cores the single run already kept busy bounds the ratio however well peers trade.
    const cores = availableParallelism();
    const busy1 = median(single.busyCores);
    const cost1 = median(single.machineCpuPerGiB);
    const cost4 = median(four.machineCpuPerGiB);
    console.log(
      `  the single run kept ${busy1.toFixed(2)} of ${cores} cores busy (machine CPU ${cost1.toFixed(2)} s per GiB delivered, /proc/stat, every process and the kernel); ` +
        `at that cost per GiB the ${cores} cores bound four leechers to ${(cores / busy1).toFixed(2)}× the single leecher. ` +
        `Four leechers spent ${cost4.toFixed(2)} s per GiB and kept ${median(four.busyCores).toFixed(2)} cores busy.`,
    );
  }
  const cappedOne = find(`bt→bt, seeder capped at ${o.seedLimit}/s`);
  const cappedFour = find(`bt→4×bt (aggregate), seeder capped at ${o.seedLimit}/s`);
  if (cappedOne && cappedFour) {
    const ratio = median(cappedFour.mbps) / median(cappedOne.mbps);
    console.log(
      `seeder capped at ${o.seedLimit}/s → four leechers, aggregate ÷ single leecher: ${ratio.toFixed(2)} (target ≥ 1.5; at most 4 when every byte leaves the seeder once)`,
    );
  }
  console.log(
    `btpeer pool ${o.settings.poolMiB} MiB; libtorrent ${o.settings.ltHighPerformance ? "high_performance_seed preset" : "default settings"}; piece ${formatSize(o.pieceLength)}`,
  );
}
