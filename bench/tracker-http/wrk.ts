// bench:tracker's load runs: wrk with bench/wrk/announce.lua against one tracker, with the CPU time the
// tracker and wrk spent (from /proc), both at the same priority (nice, and on Linux their own autogroup).
import fs from "node:fs";
import path from "node:path";
import type { Service } from "../../test/support/processes.ts";

const ROOT = path.resolve(import.meta.dir, "../..");

export type Mode = "close" | "keep-alive";

export interface Tracker {
  name: string;
  announceUrl: string;
  service: Service;
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  p50_us: number;
  p99_us: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  status_errors: number;
  timeouts: number;
}

export interface Run {
  wrk: WrkResult;
  /** The tracker's CPU time (all its threads) during the run, µs; null where /proc is not there. */
  trackerCpuUs: number | null;
  /** wrk's CPU time during the run, µs. */
  wrkCpuUs: number;
  /** The tracker's context switches (all its threads, voluntary and not) during the run; null without /proc. */
  trackerSwitches: number | null;
}

/** What a load run takes of bench:tracker's options. */
export interface WrkOptions {
  connections: number;
  threads: number;
  /** Niceness for trackers and wrk alike (negative = ahead of other work on the machine); null = unchanged. */
  nice: number | null;
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ: what /proc/<pid>/stat counts in on Linux

/** utime + stime of a process (all threads) in µs, from /proc; null elsewhere. */
function processCpuUs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Context switches of a process's threads so far, from /proc; null elsewhere. */
function processSwitches(pid: number): number | null {
  try {
    let sum = 0;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      let status: string;
      try {
        status = fs.readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      } catch {
        continue; // a thread that ended meanwhile
      }
      for (const m of status.matchAll(/ctxt_switches:\s+(\d+)/g)) sum += Number(m[1]);
    }
    return sum;
  } catch {
    return null;
  }
}

export async function runWrk(t: Tracker, o: WrkOptions, hashesFile: string, mode: Mode, seconds: number, pinTo: string | null): Promise<Run> {
  const cmd = [
    ...niceWrap(o),
    ...(pinTo ? ["taskset", "-c", pinTo] : []),
    "wrk",
    "-t",
    String(o.threads),
    "-c",
    String(o.connections),
    "-d",
    `${seconds}s`,
    "--timeout",
    "5s",
    "-s",
    path.join(ROOT, "bench/wrk/announce.lua"),
    t.announceUrl,
    "--",
    hashesFile,
    mode,
  ];
  const cpuBefore = processCpuUs(t.service.pid);
  const switchesBefore = processSwitches(t.service.pid);
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  await raisePriority(p.pid, o);
  const timer = setTimeout(() => p.kill("SIGKILL"), (seconds + 20) * 1000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  const cpuAfter = processCpuUs(t.service.pid);
  const switchesAfter = processSwitches(t.service.pid);
  const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (code !== 0 || !line) throw new Error(`wrk against ${t.name} failed (code ${code}):\n${out}\n${err}`);
  return {
    wrk: JSON.parse(line.slice("WRK_JSON ".length)) as WrkResult,
    trackerCpuUs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
    wrkCpuUs: Number(p.resourceUsage()?.cpuTime.total ?? 0n),
    trackerSwitches: switchesBefore === null || switchesAfter === null ? null : switchesAfter - switchesBefore,
  };
}

/**
 * The same priority for every tracker and wrk; it only puts the measurement ahead of other work. Linux
 * with autogroup scheduling weighs sessions against each other and applies nice only within one, so
 * each process also gets a session of its own (setsid: still the same pid) whose autogroup gets the
 * niceness (raisePriority); the group goes away with the process.
 */
export const niceWrap = (o: Pick<WrkOptions, "nice">): string[] =>
  o.nice === null || o.nice === 0 ? [] : [...(Bun.which("setsid") ? ["setsid"] : []), "nice", "-n", String(o.nice)];

export async function raisePriority(pid: number, o: Pick<WrkOptions, "nice">): Promise<void> {
  if (o.nice === null || o.nice === 0 || !Bun.which("setsid")) return;
  // Only once the process leads its own session: until setsid has run it still shares this
  // process's autogroup, and writing then would raise (and leave raised) the caller's own session.
  for (let tries = 0; tries < 100; tries++) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return; // gone, or no /proc
    }
    const session = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    if (session === pid) {
      try {
        fs.writeFileSync(`/proc/${pid}/autogroup`, String(o.nice));
      } catch {
        // No autogroup scheduling here (or not permitted): plain nice is all there is.
      }
      return;
    }
    await Bun.sleep(2);
  }
}
