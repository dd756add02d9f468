// What one UDP tracker process pays per announce under bench/tracker-udp.ts's load, beyond its CPU
// time: CPU split user/kernel and by thread, context switches (voluntary and not) per thread, page
// faults, and the softirq time of the tracker's core, each per announce answered. Optionally runs a
// tool on the tracker's pid for the measured run only (strace -c, perf record, perf trace...), which
// is stopped with SIGINT when the load ends.
//
//   bun bench/tracker-udp-probe.ts [--trackers ours,opentracker] [--runs 1] [--announces 200000]
//     [--seconds 20] [--rate N] [--threads] [--attach "strace -f -c -p {pid}"]
//
// --rate N paces the load at N announces per second at most (udp-load.ts): the tracker below
// saturation, where how it sleeps and wakes counts.
//
// Trackers: "ours" (this checkout), "ours=DIR" (another checkout, for A/B), "opentracker"; runs alternate
// between them, medians at the end. Trackers on core 0, load on core 1.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { toHex } from "../shared/bytes.ts";
import { makeTempDir, removeDir } from "../test/support/files.ts";
import { startOpentracker } from "../test/support/opentracker.ts";
import { freePort } from "../test/support/ports.ts";
import { spawnService, stopAllServices, type Service } from "../test/support/processes.ts";
import { runUdpLoad, type UdpLoadOptions } from "./udp-load.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const TICKS = 100; // USER_HZ

export const PIN = os.cpus().length >= 2 && Bun.which("taskset") !== null ? ["taskset", "-c", "0"] : [];

/** Ours from the checkout at `root`, on loopback, memory store. */
export function startOurs(root: string, name = "ours"): Promise<Service> {
  const port = freePort();
  return spawnService({
    name,
    cmd: [...PIN, process.execPath, path.join(root, "edge/adapter/bun.ts")],
    cwd: root,
    env: { PORT: String(port), HOST: "127.0.0.1", TRACKER_LOG_LEVEL: "warn", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
    ready: { line: /tracker UDP at/ },
  }).then((s) => Object.assign(s, { udpPort: port }));
}

export function pinSelfToCore1(): void {
  if (PIN.length > 0) Bun.spawnSync(["taskset", "-pc", "1", String(process.pid)], { stdout: "ignore" });
}

export function loadOptions(swarms: Uint8Array[], announces: number, seconds: number, rate?: number): Omit<UdpLoadOptions, "port"> {
  return { announces, seconds, sockets: 16, window: 8, swarms, peers: 20_000, numWant: 50, rate };
}

interface ThreadStat {
  name: string;
  utime: number;
  stime: number;
  voluntary: number;
  nonvoluntary: number;
}

function threads(pid: number): Map<number, ThreadStat> {
  const out = new Map<number, ThreadStat>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
      out.set(Number(tid), {
        name,
        utime: Number(f[11]),
        stime: Number(f[12]),
        voluntary: field("voluntary_ctxt_switches"),
        nonvoluntary: field("nonvoluntary_ctxt_switches"),
      });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

function faults(pid: number): { minor: number; major: number } {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").slice(0).split(") ")[1]!.split(" ");
  return { minor: Number(f[7]), major: Number(f[9]) };
}

/** Core 0's softirq ticks (/proc/stat) and NET_RX / NET_TX counts (/proc/softirqs). */
function core0(): { softirqTicks: number; netRx: number; netTx: number } {
  const stat = fs.readFileSync("/proc/stat", "utf8");
  const cpu0 = /^cpu0 (.*)$/m.exec(stat)![1]!.trim().split(/\s+/).map(Number);
  const softirqs = fs.readFileSync("/proc/softirqs", "utf8");
  const col = (name: string) => Number(new RegExp(`^\\s*${name}:\\s+(\\d+)`, "m").exec(softirqs)?.[1] ?? 0);
  return { softirqTicks: cpu0[6]!, netRx: col("NET_RX"), netTx: col("NET_TX") };
}

interface Probe {
  cpuUs: number;
  userUs: number;
  kernelUs: number;
  voluntary: number;
  nonvoluntary: number;
  softirqUs: number;
  faults: number;
  rate: number;
}

/** One measured run of `announces` against the tracker at `pid`/`port`, with `tool` (a shell command on {pid}) attached. */
async function probe(pid: number, port: number, load: Omit<UdpLoadOptions, "port">, tool: string, verbose: boolean): Promise<Probe> {
  const t0 = threads(pid);
  const f0 = faults(pid);
  const c0 = core0();
  const attached = tool ? Bun.spawn(["sh", "-c", `exec ${tool.replaceAll("{pid}", String(pid))}`], { stdout: "inherit", stderr: "inherit" }) : null;
  if (attached) await Bun.sleep(1000); // let it attach
  const result = await runUdpLoad({ ...load, port });
  const t1 = threads(pid);
  const f1 = faults(pid);
  const c1 = core0();
  if (attached) {
    attached.kill("SIGINT");
    await attached.exited;
  }
  const n = result.answered;
  const us = (ticks: number) => (ticks / TICKS / n) * 1e6;
  const byName = new Map<string, { threads: number; utime: number; stime: number; voluntary: number; nonvoluntary: number }>();
  const all = { threads: 0, utime: 0, stime: 0, voluntary: 0, nonvoluntary: 0 };
  for (const [tid, b] of t1) {
    const a = t0.get(tid) ?? { name: b.name, utime: 0, stime: 0, voluntary: 0, nonvoluntary: 0 };
    const g = byName.get(b.name) ?? { threads: 0, utime: 0, stime: 0, voluntary: 0, nonvoluntary: 0 };
    byName.set(b.name, g);
    for (const x of [g, all]) {
      x.threads++;
      x.utime += b.utime - a.utime;
      x.stime += b.stime - a.stime;
      x.voluntary += b.voluntary - a.voluntary;
      x.nonvoluntary += b.nonvoluntary - a.nonvoluntary;
    }
  }
  const p: Probe = {
    cpuUs: us(all.utime + all.stime),
    userUs: us(all.utime),
    kernelUs: us(all.stime),
    voluntary: all.voluntary / n,
    nonvoluntary: all.nonvoluntary / n,
    softirqUs: us(c1.softirqTicks - c0.softirqTicks),
    faults: (f1.minor - f0.minor) / n,
    rate: n / result.seconds,
  };
  if (verbose) {
    console.log(
      `    ${n} answered, ${result.lost} lost, ${result.seconds.toFixed(1)} s; NET_RX on core 0 ${((c1.netRx - c0.netRx) / n).toFixed(2)}/announce; ${t1.size} threads`,
    );
    for (const [name, g] of [...byName].sort((a, b) => b[1].utime + b[1].stime - a[1].utime - a[1].stime)) {
      if (g.utime + g.stime + g.voluntary + g.nonvoluntary === 0) continue;
      console.log(
        `      ${name.padEnd(16)} x${g.threads}: user ${us(g.utime).toFixed(2)} µs, kernel ${us(g.stime).toFixed(2)} µs, ctx ${(g.voluntary / n).toFixed(3)} vol ${(g.nonvoluntary / n).toFixed(3)} nonvol`,
      );
    }
  }
  return p;
}

const show = (p: Probe) =>
  `CPU ${p.cpuUs.toFixed(2)} µs (user ${p.userUs.toFixed(2)}, kernel ${p.kernelUs.toFixed(2)}), ctx ${p.voluntary.toFixed(3)} vol ${p.nonvoluntary.toFixed(3)} nonvol, ` +
  `faults ${p.faults.toFixed(3)}, core-0 softirq ${p.softirqUs.toFixed(2)} µs; ${Math.round(p.rate)}/s`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const args = process.argv.slice(2);
  const opt = (k: string, d: string) => {
    const i = args.indexOf(`--${k}`);
    return i >= 0 ? args[i + 1]! : d;
  };
  // "ours" (this checkout), "ours=DIR" (another checkout), "opentracker"; runs alternate between them.
  const names = opt("trackers", "ours,opentracker").split(",");
  const runs = Math.min(Number(opt("runs", "1")), 20);
  const announces = Math.min(Number(opt("announces", "200000")), 2_000_000);
  const seconds = Math.min(Number(opt("seconds", "20")), 60);
  const rateText = opt("rate", "");
  const rate = rateText === "" ? undefined : Number(rateText);
  if (rate !== undefined && !(rate > 0)) throw new Error("--rate takes announces per second");
  const attach = opt("attach", "");
  const verbose = args.includes("--threads");
  const dir = makeTempDir("bench-udp-probe-");
  const swarms = Array.from({ length: 200 }, () => crypto.getRandomValues(new Uint8Array(20)));
  pinSelfToCore1();
  try {
    const trackers: { name: string; pid: number; port: number; runs: Probe[] }[] = [];
    for (const [i, name] of names.entries()) {
      if (name === "opentracker") {
        const port = freePort();
        const ot = await startOpentracker({ infoHashes: swarms.map(toHex), dir: path.join(dir, `ot${i}`), port, udpPort: port, wrap: PIN });
        trackers.push({ name, pid: ot.service.pid, port, runs: [] });
      } else {
        const root = name.startsWith("ours=") ? path.resolve(name.slice(5)) : ROOT;
        const s = await startOurs(root, name);
        trackers.push({ name, pid: s.pid, port: (s as Service & { udpPort: number }).udpPort, runs: [] });
      }
    }
    for (const t of trackers) await runUdpLoad({ ...loadOptions(swarms, 50_000, seconds), port: t.port });
    for (let run = 0; run < runs; run++) {
      // Every other round in reverse order, so that neither tracker always runs first after the other.
      for (const t of run % 2 === 0 ? trackers : [...trackers].reverse()) {
        const p = await probe(t.pid, t.port, loadOptions(swarms, announces, seconds, rate), attach, verbose);
        t.runs.push(p);
        console.log(`  run ${run + 1} ${t.name} (pid ${t.pid}): ${show(p)}; load avg ${os.loadavg()[0]!.toFixed(2)}`);
      }
    }
    for (const t of trackers) {
      const m = (k: keyof Probe) => median(t.runs.map((p) => p[k]));
      const med: Probe = {
        cpuUs: m("cpuUs"),
        userUs: m("userUs"),
        kernelUs: m("kernelUs"),
        voluntary: m("voluntary"),
        nonvoluntary: m("nonvoluntary"),
        softirqUs: m("softirqUs"),
        faults: m("faults"),
        rate: m("rate"),
      };
      console.log(`median ${t.name}: ${show(med)}`);
    }
    if (trackers.length === 2 && runs > 1) {
      const [a, b] = trackers;
      const better = a!.runs.filter((p, i) => b!.runs[i]!.cpuUs < p.cpuUs).length;
      console.log(`pairs where ${b!.name} used less CPU per announce than ${a!.name}: ${better}/${runs}`);
    }
  } finally {
    await stopAllServices();
    removeDir(dir);
  }
}

if (import.meta.main) await main();
