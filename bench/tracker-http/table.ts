// bench:tracker's tables: per tracker the medians of its rounds (requests/s, latency, CPU per request,
// the tracker's and wrk's share of their cores, reply size) against ours, with the README's targets.
import { median } from "../../peer/bench/table.ts";
import type { Mode, Run, Tracker, WrkResult } from "./wrk.ts";

export const rate = (w: WrkResult) => w.requests / (w.duration_us / 1e6);
const cpuPerRequest = (r: Run) => (r.trackerCpuUs === null ? NaN : r.trackerCpuUs / r.wrk.requests);
const switchesPerRequest = (r: Run) => (r.trackerSwitches === null ? NaN : r.trackerSwitches / r.wrk.requests);
export const trackerShare = (r: Run) => (r.trackerCpuUs === null ? NaN : r.trackerCpuUs / r.wrk.duration_us);
export const wrkShare = (r: Run) => r.wrkCpuUs / r.wrk.duration_us;
export const pct = (x: number) => (Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(0)}%`);

export function printTable(mode: Mode, trackers: Tracker[], results: Map<string, Run[]>): void {
  const rows = trackers.map((t) => {
    const rs = results.get(t.name)!;
    return {
      name: t.name,
      rps: median(rs.map((r) => rate(r.wrk))),
      p50: median(rs.map((r) => r.wrk.p50_us / 1000)),
      p99: median(rs.map((r) => r.wrk.p99_us / 1000)),
      cpuUs: median(rs.map(cpuPerRequest)),
      switches: median(rs.map(switchesPerRequest)),
      trackerCpu: median(rs.map(trackerShare)),
      wrkCpu: median(rs.map(wrkShare)),
      replyBytes: median(rs.map((r) => r.wrk.bytes / r.wrk.requests)),
    };
  });
  const ours = rows.find((r) => r.name === "ours")!;
  console.log(`\nconnection mode: ${mode === "close" ? "close (one announce per connection, as clients do)" : "keep-alive"}`);
  console.log(
    `| tracker | requests/s (median) | p50 ms | p99 ms | tracker CPU µs/request | context switches/request | tracker CPU | wrk CPU | response bytes (mean) | ours ÷ this (req/s) | target | ours ÷ this (requests per CPU-second) |`,
  );
  console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|`);
  for (const r of rows) {
    const ratio = ours.rps / r.rps;
    const target =
      r.name === "bittorrent-tracker"
        ? `≥ 3× : ${ratio >= 3 ? "met" : "NOT met"}`
        : r.name === "opentracker"
          ? `≥ 0.5× : ${ratio >= 0.5 ? "met" : "NOT met"}`
          : "";
    console.log(
      `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Number.isNaN(r.cpuUs) ? "n/a" : r.cpuUs.toFixed(1)} | ${Number.isNaN(r.switches) ? "n/a" : r.switches.toFixed(2)} | ${pct(r.trackerCpu)} | ${pct(r.wrkCpu)} | ${r.replyBytes.toFixed(0)} | ${r.name === "ours" ? "1.00" : ratio.toFixed(2)} | ${target} | ${Number.isNaN(r.cpuUs) ? "n/a" : (r.cpuUs / ours.cpuUs).toFixed(2)} |`,
    );
  }
  console.log(
    "(tracker CPU: its share of one core during the load; wrk CPU: the load generator's share of its core. Response bytes include HTTP headers.\n" +
      " Context switches: the tracker's, per request; each is mostly a wake-up from idle, paid in CPU time.\n" +
      " The last column compares CPU time per request: capacity per core, which other load on the machine disturbs far less than requests/s.)",
  );
  console.log("");
}
