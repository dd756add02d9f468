// npm run bench:clients — piece throughput across the BitTorrent clients people run on servers, on
// loopback, every copy verified by checksum. Three groups per round:
//   1. every client leeching from a btpeer seeder,
//   2. every client leeching from a libtorrent seeder (the reference),
//   3. btpeer leeching from every other client as the seeder.
// Per cell: MB/s (median of the rounds), CPU seconds per GiB of the leecher and of the seeder, the whole
// machine's CPU per GiB (/proc/stat), the leecher's peak RSS and anonymous RSS.
//
// Every transfer has a fresh tracker and a fresh seeder, so nothing an earlier one left behind reaches it.
// The data and torrent are made once for all rounds. Each copy is checked (SHA-256 against the original)
// while the next transfer's tracker and seeder start, and removed before its leecher starts: never
// during a measured window. Each transfer prints where its wall time went (start-ups, waits, transfer).
// Timing: from the leecher's first block on disk (so start-up, connecting, and a client's own delay
// before its first request are not counted: a daemon takes a second or more to start, Transmission
// 10-15 s to let its first peer in) to the moment the client reports every piece verified; CPU over
// the same window, from /proc. Clients that cannot dial a tracker-named loopback peer (Transmission)
// start first, and their seeder is told to dial them.
// How each client is set up for throughput is printed with the results (bench/clients/<client>.ts).
//
//   bun bench/clients.ts [--clients btpeer,libtorrent,...] [--size 1G] [--rounds 3] [--piece 1M]
//                        [--btpeer dist/btpeer] [--json FILE] [--svg FILE] [--max-minutes 20]
import fs from "node:fs";
import path from "node:path";
import { opensslSha1 } from "../peer/bench/openssl.ts";
import { BTPEER } from "../test/support/btpeer.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256Tree } from "../test/support/files.ts";
import { freePort } from "../test/support/ports.ts";
import { stopAllServices } from "../test/support/processes.ts";
import { needs } from "../test/support/system.ts";
import { infoHashHex, mktorrent } from "../test/support/torrents.ts";
import type { BenchClient, PeerRun } from "./clients/adapter.ts";
import { aria2Client } from "./clients/aria2.ts";
import { btpeerClient } from "./clients/btpeer.ts";
import { delugeClient } from "./clients/deluge.ts";
import { libtorrentClient } from "./clients/libtorrent.ts";
import { qbittorrentClient } from "./clients/qbittorrent.ts";
import { rtorrentClient } from "./clients/rtorrent.ts";
import { BenchTracker } from "./clients/tracker.ts";
import { transmissionClient } from "./clients/transmission.ts";
import { type Cell, report } from "./clients/report.ts";
import { compareSums, machineBusySeconds, processCpuSeconds, warmMemory } from "./measure.ts";
import { sampleMemory } from "./memory-sampler.ts";
import { parseSize, formatSize } from "./swarm/data.ts";

interface Options {
  clients: string[];
  size: number;
  rounds: number;
  pieceLength: number;
  btpeerCmd: string[];
  json: string | null;
  svg: string;
  maxMinutes: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    clients: [],
    size: parseSize("1G"),
    rounds: 3,
    pieceLength: parseSize("1M"),
    btpeerCmd: BTPEER,
    json: null,
    svg: path.resolve(import.meta.dir, "results", "clients.svg"),
    maxMinutes: 20,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--clients") o.clients = next().split(",");
    else if (a === "--size") o.size = parseSize(next());
    else if (a === "--rounds") o.rounds = Math.max(1, Number(next()));
    else if (a === "--piece") o.pieceLength = parseSize(next());
    else if (a === "--btpeer") o.btpeerCmd = [path.resolve(next())];
    else if (a === "--json") o.json = path.resolve(next());
    else if (a === "--svg") o.svg = path.resolve(next());
    else if (a === "--max-minutes") o.maxMinutes = Number(next());
    else throw new Error(`unknown option ${a}; see the header of bench/clients.ts`);
  }
  return o;
}

const GiB = 2 ** 30;

class Bench {
  readonly cells: Cell[] = [];
  private seedDir = "";
  private torrent = "";
  private infoHash = "";
  private sums = new Map<string, string>();
  /** The last transfer's copy, being checked while the next transfer starts. */
  private checking: { out: string; what: string; sums: Promise<Map<string, string>> } | null = null;

  constructor(
    private readonly o: Options,
    private readonly tmp: string,
    private readonly tracker: BenchTracker,
  ) {}

  prepare(): void {
    this.seedDir = path.join(this.tmp, "seed");
    fs.mkdirSync(this.seedDir, { recursive: true });
    makeRandomFile(path.join(this.seedDir, "payload.bin"), this.o.size, 7);
    this.torrent = mktorrent({
      source: path.join(this.seedDir, "payload.bin"),
      out: path.join(this.tmp, "payload.torrent"),
      trackers: [this.tracker.announceUrl],
      pieceLength: this.o.pieceLength,
    });
    this.infoHash = infoHashHex(this.torrent);
  }

  /**
   * Waits for the check of the last transfer's copy and removes it; throws if it differs. Removing
   * 1 GiB just written and read, right before the next leecher writes, is also that leecher's memory
   * warm-up (see warmMemory), so only the first transfer writes a file for it.
   */
  async settle(): Promise<void> {
    const last = this.checking;
    if (!last) return;
    this.checking = null;
    try {
      const diff = compareSums(await last.sums, this.sums);
      if (diff) throw new Error(`${last.what}: the download differs from the original: ${diff}`);
    } finally {
      removeDir(last.out);
    }
  }

  async sumsOfSeed(): Promise<void> {
    this.sums = await sha256Tree(this.seedDir);
  }

  private work(name: string): string {
    const dir = path.join(this.tmp, "work", `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  private timeoutS(): number {
    return Math.max(120, Math.ceil(this.o.size / (5 * 2 ** 20)));
  }

  /** A seeder of `client` on the seed folder, ready once the tracker counts it as complete. */
  async startSeeder(client: BenchClient, peers: string[] = []): Promise<PeerRun> {
    const before = await this.tracker.counts(this.infoHash);
    const run = await client.seed({
      torrent: this.torrent,
      dir: this.seedDir,
      work: this.work(`${client.id}-seed`),
      port: freePort(),
      peers,
      timeoutS: this.timeoutS(),
    });
    await this.tracker.waitFor(this.infoHash, (c) => c.complete > before.complete, 300_000, `${client.label} seeding`, run.service);
    return run;
  }

  /**
   * One measured transfer: a fresh tracker, a fresh seeder, a leecher into an empty folder. A leecher
   * that dials tracker-named peers starts once the seeder is ready; one that does not (Transmission)
   * starts first, and the seeder is told to dial it. The copy is checked while the next transfer's
   * tracker and seeder start (`settle`), never while one is measured.
   */
  async cell(group: Cell["group"], seederClient: BenchClient, leecherClient: BenchClient): Promise<Cell> {
    const out = path.join(this.tmp, "out", `${leecherClient.id}-${Date.now()}`);
    fs.mkdirSync(out, { recursive: true });
    const phases = new PhaseClock();
    if (!this.checking) {
      warmMemory(this.tmp, this.o.size);
      phases.mark("warm");
    }
    const leech = async () => {
      await this.settle();
      phases.mark("check of the last copy");
      return leecherClient.leech({
        torrent: this.torrent,
        dir: out,
        work: this.work(`${leecherClient.id}-leech`),
        port: freePort(),
        peers: seeder ? [seeder.address] : [],
        timeoutS: this.timeoutS(),
      });
    };
    let seeder: PeerRun | null = null;
    let leecher: PeerRun | null = null;
    let checking = false;
    try {
      await this.tracker.restart();
      phases.mark("tracker");
      if (leecherClient.dialsTrackerPeers) {
        seeder = await this.startSeeder(seederClient);
        phases.mark("seeder");
        leecher = await leech();
        await this.tracker.waitFor(this.infoHash, (c) => c.incomplete > 0, 120_000, `${leecherClient.label} announcing`, leecher.service);
        phases.mark("leecher");
      } else {
        leecher = await leech();
        await this.tracker.waitFor(this.infoHash, (c) => c.incomplete > 0, 120_000, `${leecherClient.label} announcing`, leecher.service);
        phases.mark("leecher");
        seeder = await this.startSeeder(seederClient, [leecher.address]);
        phases.mark("seeder");
      }
      const memory = sampleMemory(leecher.service.pid);
      await firstByte(out, leecher);
      phases.mark("first block");
      const t0 = performance.now();
      const cpu0 = [processCpuSeconds(leecher.service.pid) ?? 0, processCpuSeconds(seeder.service.pid) ?? 0, machineBusySeconds()];
      await leecher.done;
      const seconds = (performance.now() - t0) / 1000;
      // A leecher that exits when done has been reaped: its CPU is its rusage; others are still running.
      const leecherCpu = leecher.service.hasExited ? rusageSeconds(leecher) : (processCpuSeconds(leecher.service.pid) ?? 0) - cpu0[0]!;
      const seederCpu = (processCpuSeconds(seeder.service.pid) ?? 0) - cpu0[1]!;
      const machineCpu = machineBusySeconds() - cpu0[2]!;
      const peaks = memory.stop();
      phases.mark("transfer");
      await leecher.stop();
      phases.mark("leecher stop");
      const what = `${leecherClient.label} from ${seederClient.label}`;
      const sums = sha256Tree(out);
      sums.catch(() => {}); // awaited in settle(); until then a failed read is not an unhandled rejection
      this.checking = { out, what, sums };
      checking = true;
      const gib = this.o.size / GiB;
      return {
        group,
        seeder: seederClient.id,
        leecher: leecherClient.id,
        mbps: this.o.size / 1e6 / seconds,
        leecherCpuPerGiB: leecherCpu / gib,
        seederCpuPerGiB: seederCpu / gib,
        machineCpuPerGiB: machineCpu / gib,
        peakRss: peaks?.peakRss ?? 0,
        peakAnon: peaks?.peakAnon ?? 0,
      };
    } finally {
      await leecher?.stop();
      await seeder?.stop();
      if (!checking) removeDir(out);
      phases.mark("seeder stop");
      console.log(`    ${phases.summary()}`);
    }
  }
}

/** Where a transfer's wall time goes, phase by phase, printed after it (so overhead is seen, not guessed). */
class PhaseClock {
  private last = performance.now();
  private readonly first = this.last;
  private readonly phases: [string, number][] = [];

  mark(name: string): void {
    const now = performance.now();
    this.phases.push([name, (now - this.last) / 1000]);
    this.last = now;
  }

  summary(): string {
    return `${((this.last - this.first) / 1000).toFixed(1)} s: ${this.phases.map(([n, s]) => `${n} ${s.toFixed(1)}`).join(", ")}`;
  }
}

/**
 * Resolves when the leecher has written its first block of the payload (polled every 5 ms), which
 * starts the clock: what comes before (start-up, connecting, a client's own pace at letting the first
 * peer in: Transmission takes 10-15 s on loopback, seen with every seeder) is not throughput.
 */
async function firstByte(out: string, leecher: PeerRun): Promise<void> {
  const files = ["payload.bin", "payload.bin.part"].map((f) => path.join(out, f));
  const deadline = Date.now() + 120_000;
  for (;;) {
    for (const f of files) {
      try {
        if (fs.statSync(f).blocks > 0) return;
      } catch {
        // not created yet
      }
    }
    if (leecher.service.hasExited) return; // done (or failed) before a poll saw it: `done` says which
    if (Date.now() > deadline) throw new Error(`${leecher.service.name} wrote nothing within 120 s\n${leecher.service.output()}`);
    await Bun.sleep(5);
  }
}

/** CPU of a reaped leecher over its whole life (rusage): it exited right after `done`, so this is its cost. */
function rusageSeconds(run: PeerRun): number {
  const usage = run.service.proc.resourceUsage();
  return usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : 0;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const all = [btpeerClient(o.btpeerCmd), libtorrentClient, qbittorrentClient, transmissionClient, rtorrentClient, delugeClient, aria2Client];
  const wanted = o.clients.length > 0 ? all.filter((c) => o.clients.includes(c.id)) : all;
  for (const id of o.clients) if (!all.some((c) => c.id === id)) throw new Error(`unknown client ${id}; pick from ${all.map((c) => c.id).join(", ")}`);
  const clients = wanted.filter((c) => {
    const missing = c.programs.filter((p) => !needs(p));
    if (missing.length > 0) console.log(`skipping ${c.label}: install it with \`${missing.map((p) => p.install).join(" && ")}\``);
    return missing.length === 0;
  });
  // WebTorrent is the one client of the list that is not here: its npm package depends (through
  // webrtc-polyfill) on node-datachannel, whose install step downloads a prebuilt binary, which the
  // project's dependency rule forbids (only package registries are reachable, and builds must not fetch).
  console.log("not benchmarked: WebTorrent (npm `webtorrent` needs node-datachannel, which downloads a prebuilt binary at install time)");
  const btpeer = clients.find((c) => c.id === "btpeer");
  const libtorrent = clients.find((c) => c.id === "libtorrent");
  if (!btpeer || !libtorrent) throw new Error("bench:clients needs btpeer and libtorrent (the two reference seeders)");

  const tmp = makeTempDir("bench-clients-");
  const tracker = await BenchTracker.start();
  const started = Date.now();
  const bench = new Bench(o, tmp, tracker);
  try {
    console.log(
      `bench:clients — ${formatSize(o.size)}, piece ${formatSize(o.pieceLength)}, ${o.rounds} rounds, clients: ${clients.map((c) => c.label).join(", ")}`,
    );
    const t0 = performance.now();
    bench.prepare();
    await bench.sumsOfSeed();
    console.log(`  data, torrent and checksums made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const sha1 = opensslSha1(o.pieceLength);
    for (let round = 1; round <= o.rounds; round++) {
      if ((Date.now() - started) / 60_000 > o.maxMinutes) {
        console.log(`stopping after round ${round - 1}: --max-minutes ${o.maxMinutes} reached`);
        break;
      }
      const plan: [Cell["group"], BenchClient, BenchClient][] = [
        ...clients.map((c): [Cell["group"], BenchClient, BenchClient] => ["from-btpeer", btpeer, c]),
        ...clients.map((c): [Cell["group"], BenchClient, BenchClient] => ["from-libtorrent", libtorrent, c]),
        ...clients.filter((c) => c !== btpeer && c !== libtorrent).map((c): [Cell["group"], BenchClient, BenchClient] => ["btpeer-from", c, btpeer]),
      ];
      for (const [group, seederClient, leecherClient] of plan) {
        const cell = await bench.cell(group, seederClient, leecherClient);
        bench.cells.push(cell);
        progress(round, cell);
      }
    }
    await bench.settle();
    report(bench.cells, clients, sha1, o);
  } finally {
    await stopAllServices();
    await tracker.stop();
    removeDir(tmp);
  }
}

function progress(round: number, c: Cell): void {
  console.log(`  round ${round}: ${c.seeder} → ${c.leecher}: ${c.mbps.toFixed(0)} MB/s`);
}

if (import.meta.main) await main();
