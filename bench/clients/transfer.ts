// One bench:clients measurement: the data and torrent made once, then per transfer a fresh tracker, a
// fresh seeder and a leecher into an empty folder, timed from its first block on disk to every piece
// verified, its copy checked while the next transfer starts (see the header of bench/clients.ts).
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, removeDir, sha256Tree } from "../../test/support/files.ts";
import { freePort } from "../../test/support/ports.ts";
import { infoHashHex, mktorrent } from "../../test/support/torrents.ts";
import { compareSums, machineBusySeconds, processCpuSeconds, warmMemory } from "../measure.ts";
import { sampleMemory } from "../memory-sampler.ts";
import type { BenchClient, PeerRun } from "./adapter.ts";
import type { Options } from "./options.ts";
import type { Cell } from "./report.ts";
import { firstByte, PhaseClock, rusageSeconds } from "./timing.ts";
import type { BenchTracker } from "./tracker.ts";

const GiB = 2 ** 30;

export class Bench {
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
      await finishedWithin(leecher, this.timeoutS(), `${leecherClient.label} from ${seederClient.label}`);
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

/**
 * The leecher's end, or an error naming the transfer once `seconds` have passed: a transfer that stalls
 * (a btpeer leecher from an aria2 seeder once waited on its last piece until aria2 had gone) must not hold
 * the bench past its bound.
 */
async function finishedWithin(leecher: PeerRun, seconds: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${seconds} s (rerun with --clients to narrow it down)\n${leecher.service.output()}`)),
      seconds * 1000,
    );
  });
  try {
    await Promise.race([leecher.done, late]);
  } finally {
    clearTimeout(timer);
  }
}
