// Where a btpeer → btpeer transfer's CPU goes, per process and per thread (issue 16): one seeder and one
// leecher, each a real process as bench:clients runs them, over loopback. The window is bench:clients'
// (the leecher's first block on disk to its `completed` event); over it, every thread's CPU from
// /proc/<pid>/task/<tid>/{stat,schedstat} and the machine's /proc/stat columns (softirq apart), and with
// --perf a machine-wide `perf record -g` cut to the same window (CLOCK_MONOTONIC), whose samples
// bench/peer-profile-report.ts sorts into categories.
//
// With --js (and --perf), both processes write JSC's jitdump into DIR/jit, turned into perf maps after the runs
// (bench/jitdump-map.ts): the report then names the JavaScript functions of the main threads.
//
//   bun bench/peer-profile.ts [--btpeer dist/btpeer] [--runs 3] [--size 1G] [--perf DIR [--perf-events LIST] [--js]]
import { dlopen, FFIType } from "bun:ffi";
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir } from "../test/support/files.ts";
import { freePort } from "../test/support/ports.ts";
import { spawnService, stopAllServices } from "../test/support/processes.ts";
import { infoHashHex, mktorrent } from "../test/support/torrents.ts";
import { btpeerClient } from "./clients/btpeer.ts";
import { parseOptions } from "./clients/options.ts";
import { firstByte } from "./clients/timing.ts";
import { BenchTracker } from "./clients/tracker.ts";
import { jitdumpsToPerfMaps } from "./jitdump-map.ts";
import { warmMemory } from "./measure.ts";

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const cmd = (arg("btpeer", "dist/btpeer") as string).split(/\s+/).filter(Boolean);
const runs = Number(arg("runs", "3"));
const perfDir = arg("perf");
/** Instead of sampling call chains, record these events (tracepoints such as syscalls:sys_exit_recvfrom). */
const perfEvents = arg("perf-events");
/** JIT-compiled JavaScript named in perf (jitdump → perf map); the dump itself costs the processes some CPU. */
const jitDir = perfDir && process.argv.includes("--js") ? path.join(perfDir, "jit") : null;
if (jitDir) {
  fs.mkdirSync(jitDir, { recursive: true });
  // Inherited by the seeder and leecher this script spawns (Bun reads BUN_JSC_* at start).
  process.env.BUN_JSC_useJITDump = "1";
  process.env.BUN_JSC_jitDumpDirectory = jitDir;
}
const o = parseOptions(["--size", arg("size", "1G") as string, "--piece", arg("piece", "1M") as string]);
const GiB = 2 ** 30;

const libc = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
const ts = new BigInt64Array(2);
/** CLOCK_MONOTONIC in seconds: the clock perf is told to stamp its samples with (-k CLOCK_MONOTONIC). */
function monotonic(): number {
  libc.symbols.clock_gettime(1, ts);
  return Number(ts[0]!) + Number(ts[1]!) / 1e9;
}

interface ThreadCpu {
  comm: string;
  user: number;
  system: number;
  run: number;
}

/** Every thread of `pid`: name, user and system seconds (USER_HZ ticks), and the scheduler's run time (ns precise). */
function threads(pid: number): Map<number, ThreadCpu> {
  const out = new Map<number, ThreadCpu>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const run = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
      out.set(Number(tid), { comm, user: Number(f[11]) / 100, system: Number(f[12]) / 100, run });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

const STAT_COLUMNS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
function machine(): Record<(typeof STAT_COLUMNS)[number], number> {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(STAT_COLUMNS.map((c, i) => [c, (f[i] ?? 0) / 100])) as Record<(typeof STAT_COLUMNS)[number], number>;
}

interface Snapshot {
  t: number;
  seederTotal: number;
  leecherTotal: number;
  seeder: Map<number, ThreadCpu>;
  leecher: Map<number, ThreadCpu>;
  machine: ReturnType<typeof machine>;
}

function snapshot(seederPid: number, leecherPid: number): Snapshot {
  return {
    t: monotonic(),
    seeder: threads(seederPid),
    leecher: threads(leecherPid),
    seederTotal: processTicks(seederPid),
    leecherTotal: processTicks(leecherPid),
    machine: machine(),
  };
}

/** User + system seconds of the whole process, threads that have ended included (the kernel keeps their sum). */
function processTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Per thread, ms per GiB over the window: total run time, user and system. Threads born inside it count
 * from zero; a thread that ended inside it (the hashing threads may go as the download completes) is
 * missing from the end listing, so a last row "(ended threads)" is the process's user + system less the
 * living threads'.
 */
function threadTable(a: Map<number, ThreadCpu>, b: Map<number, ThreadCpu>, processSeconds: number, gib: number) {
  const rows = [];
  let living = 0;
  for (const [tid, end] of b) {
    const start = a.get(tid) ?? { comm: end.comm, user: 0, system: 0, run: 0 };
    const ms = (x: number) => Math.round((x * 1000) / gib);
    rows.push({ tid, comm: end.comm, runMs: ms(end.run - start.run), userMs: ms(end.user - start.user), sysMs: ms(end.system - start.system) });
    living += end.user - start.user + end.system - start.system;
  }
  const ended = Math.round(((processSeconds - living) * 1000) / gib);
  if (ended >= 20) rows.push({ tid: 0, comm: "(ended threads)", runMs: ended, userMs: 0, sysMs: 0 });
  return rows.filter((r) => r.runMs > 0).sort((x, y) => y.runMs - x.runMs);
}

const tmp = makeTempDir("bench-peer-profile-");
const tracker = await BenchTracker.start();
const client = btpeerClient(cmd);
const results = [];
try {
  const seedDir = path.join(tmp, "seed");
  makeRandomFile(path.join(seedDir, "payload.bin"), o.size, 7);
  const torrent = mktorrent({
    source: path.join(seedDir, "payload.bin"),
    out: path.join(tmp, "payload.torrent"),
    trackers: [tracker.announceUrl],
    pieceLength: o.pieceLength,
  });
  const infoHash = infoHashHex(torrent);
  warmMemory(tmp, o.size);
  for (let r = 1; r <= runs; r++) {
    await tracker.restart();
    const seeder = await client.seed({ torrent, dir: seedDir, work: tmp, port: freePort(), peers: [], timeoutS: 300 });
    await tracker.waitFor(infoHash, (c) => c.complete > 0, 300_000, "btpeer seeding", seeder.service);
    const perfFile = perfDir ? path.join(perfDir, `run${r}.data`) : null;
    const perf = perfFile
      ? Bun.spawn(["perf", "record", "-a", "-k", "CLOCK_MONOTONIC", ...(perfEvents ? ["-e", perfEvents] : ["-g", "-F", "1999"]), "-o", perfFile], {
          stdout: "ignore",
          stderr: "ignore",
        })
      : null;
    if (perf) await Bun.sleep(1000); // perf opens its events on every CPU before the leecher starts
    const out = path.join(tmp, `out${r}`);
    fs.mkdirSync(out);
    const leecher = await spawnService({
      name: "btpeer download",
      cmd: [...cmd, "download", torrent, "--out", out, "--seed", "--port", String(freePort()), "--json", "--no-dht", "--peer", seeder.address],
      graceMs: 5000,
    });
    const done = { service: leecher, address: "", done: Promise.resolve(), stop: async () => void (await leecher.stop()) };
    await firstByte(out, done);
    const a = snapshot(seeder.service.pid, leecher.pid);
    await leecher.waitForLine(/"event":"completed"/, 300_000);
    const b = snapshot(seeder.service.pid, leecher.pid);
    if (perf) {
      perf.kill("SIGINT");
      await perf.exited;
    }
    await leecher.stop();
    await seeder.stop();
    removeDir(out);
    const gib = o.size / GiB;
    const seconds = b.t - a.t;
    const m = Object.fromEntries(STAT_COLUMNS.map((c) => [c, Math.round(((b.machine[c] - a.machine[c]) * 1000) / gib)]));
    const result = {
      run: r,
      window: { start: a.t, end: b.t },
      seconds,
      mbps: o.size / 1e6 / seconds,
      seeder: threadTable(a.seeder, b.seeder, b.seederTotal - a.seederTotal, gib),
      leecher: threadTable(a.leecher, b.leecher, b.leecherTotal - a.leecherTotal, gib),
      machineMsPerGiB: m,
      perf: perfFile,
      seederPid: seeder.service.pid,
      leecherPid: leecher.pid,
    };
    results.push(result);
    console.log(JSON.stringify(result));
  }
} finally {
  await stopAllServices();
  await tracker.stop();
  removeDir(tmp);
  if (jitDir) console.error(`perf maps: ${jitdumpsToPerfMaps(jitDir).join(" ")}`);
}
