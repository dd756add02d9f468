// The daemons side by side at scale (issue 15): N small torrents added through each one's own API to
// btpeer daemon, qbittorrent-nox and transmission-daemon, each seeding from data already on disk. Per
// daemon: peak memory from the first add until all are seeding and again from a restart until all are
// seeding, start-up to all seeding after that clean restart, and the time of a full list (sync/maindata
// for qBittorrent and btpeer, torrent-get for Transmission).
//
// What the bench asks while it waits is kept small on purpose: qBittorrent 4.5.2 keeps the memory of every
// large Web API answer it sends (about 6.5 KiB per torrent listed, never given back; qBittorrent issue
// 18830, measured here: 100 full lists of 2,000 torrents took it from 83 to 2,232 MiB), so polling a full
// list would measure the bench, not the daemon. "All seeding?" is one cheap question per daemon, asked every
// second, and the full lists are timed only after the peaks are taken (their cost is shown apart).
import fs from "node:fs";
import type { Service } from "../../test/support/processes.ts";
import { sampleMemory, type MemoryPeaks } from "../memory-sampler.ts";
import type { SmallTorrent } from "./small-torrents.ts";

export interface DaemonUnderTest {
  name: string;
  /** How it is set up, for the report. */
  setup: string;
  /** Starts the daemon (on its existing state, after the first time). */
  start(): Promise<Service>;
  add(torrents: SmallTorrent[]): Promise<void>;
  /** Whether at least `n` torrents are seeding: one small request. */
  allSeeding(n: number): Promise<boolean>;
  /** Whether the daemon's own state on disk holds all `n` (it may write them lazily); absent: always. */
  allSaved?(n: number): boolean;
  /** One full list, as a tool polling the daemon reads it. */
  list(): Promise<void>;
  stop(): Promise<void>;
}

export interface ScaleFigures {
  name: string;
  setup: string;
  count: number;
  addSeconds: number;
  /** From the first add until everything was in the daemon's state on disk (0: at once). */
  savedSeconds: number;
  /** The larger of the two phases' peaks (adding, restarting), each field on its own. */
  peak: MemoryPeaks;
  /** VmHWM of each phase's process: adding through the API, and from the restart until all seed. */
  addPeakRss: number;
  restartPeakRss: number;
  /** VmRSS once all were seeding after the restart. */
  steadyRss: number;
  restartSeconds: number;
  listP50Ms: number;
  listP99Ms: number;
  /** VmRSS after the timed lists. */
  rssAfterLists: number;
  /** VmRSS 5 s after them: what the daemon gave back once the burst was over. */
  rssAfterListsQuiet: number;
}

const LIST_SAMPLES = 21;
const POLL_MS = 1000;

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, service: Service): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (service.hasExited) throw new Error(`${service.name} exited before ${what}\n${service.output()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${service.output()}`);
    await Bun.sleep(POLL_MS);
  }
}

export function vmRss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

const maxPeaks = (a: MemoryPeaks | null, b: MemoryPeaks | null): MemoryPeaks => ({
  peakRss: Math.max(a?.peakRss ?? 0, b?.peakRss ?? 0),
  peakAnon: Math.max(a?.peakAnon ?? 0, b?.peakAnon ?? 0),
  peakFile: Math.max(a?.peakFile ?? 0, b?.peakFile ?? 0),
});

export async function measureDaemon(d: DaemonUnderTest, torrents: SmallTorrent[], timeoutMs: number, say: (line: string) => void): Promise<ScaleFigures> {
  const n = torrents.length;
  let service = await d.start();
  let memory = sampleMemory(service.pid, 200);
  const t0 = performance.now();
  await d.add(torrents);
  await until(`${d.name}: all ${n} seeding`, timeoutMs, () => d.allSeeding(n), service);
  const addSeconds = (performance.now() - t0) / 1000;
  say(`  ${d.name}: ${n} seeding ${addSeconds.toFixed(1)} s after the first add`);
  // A restart before the daemon has written its state would measure lost torrents, not a start-up.
  const saved = d.allSaved;
  if (saved) await until(`${d.name}: all ${n} in its state on disk`, timeoutMs, async () => saved(n), service);
  const savedSeconds = saved ? (performance.now() - t0) / 1000 : 0;
  const addPeak = memory.stop();
  const stopping = performance.now();
  await d.stop();
  say(`  ${d.name}: stopped in ${((performance.now() - stopping) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  service = await d.start();
  memory = sampleMemory(service.pid, 200);
  await until(`${d.name}: all ${n} seeding after a restart`, timeoutMs, () => d.allSeeding(n), service);
  const restartSeconds = (performance.now() - t1) / 1000;
  const restartPeak = memory.stop();
  const steadyRss = vmRss(service.pid);
  const times: number[] = [];
  for (let i = 0; i < LIST_SAMPLES; i++) {
    const t = performance.now();
    await d.list();
    times.push(performance.now() - t);
  }
  const rssAfterLists = vmRss(service.pid);
  await Bun.sleep(5000);
  const rssAfterListsQuiet = vmRss(service.pid);
  await d.stop();
  times.sort((a, b) => a - b);
  return {
    name: d.name,
    setup: d.setup,
    count: n,
    addSeconds,
    savedSeconds,
    peak: maxPeaks(addPeak, restartPeak),
    addPeakRss: addPeak?.peakRss ?? 0,
    restartPeakRss: restartPeak?.peakRss ?? 0,
    steadyRss,
    restartSeconds,
    listP50Ms: times[Math.floor(times.length / 2)]!,
    listP99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!,
    rssAfterLists,
    rssAfterListsQuiet,
  };
}
