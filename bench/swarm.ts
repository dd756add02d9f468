// npm run bench:swarm — end-to-end piece throughput on loopback: btpeer and libtorrent, seeder to
// leecher(s), each configuration run several times (medians), data verified by checksum after every run.
//
// Configurations (--only, comma-separated):
//   bt-bt   btpeer seeder → btpeer leecher (each --size), default --encryption prefer on both: an MSE
//           handshake, then the plaintext payload the seeder selects
//   bt-bt-plain  the same with --encryption disable on both: plain BitTorrent, no MSE at all (each --size)
//   bt-bt-rc4    the same with --encryption require on both: MSE with the RC4 payload (each --size)
//   lt-lt   libtorrent → libtorrent, the reference (each --size)
//   lt-bt   libtorrent seeder → btpeer leecher (first size)
//   bt-lt   btpeer seeder → libtorrent leecher (first size)
//   bt-4    one btpeer seeder → four btpeer leechers at once, all knowing each other (first size)
//   copy    bt-bt with the seeder not splicing from files (BTPEER_SPLICE=0: blocks read into buffers), to set
//           against bt-bt's seeder CPU (first size)
//   capped  the seeder's upload capped (--seed-limit, default 50M = 50 MiB/s, a server's uplink): one
//           leecher, then four; what the leechers gain by trading pieces when the seeder is the bottleneck
//   multi   1,000 files of 64 KiB–1 MiB: btpeer → btpeer and libtorrent → libtorrent
//
//   bun bench/swarm.ts [--only ...] [--size 1G,4G] [--runs 3] [--piece 1M] [--pool 64]
//                      [--btpeer dist/btpeer] [--lt-defaults] [--seed-limit 50M] [--max-minutes 20] [--keep]
//
// Figures per leecher: MB/s from spawn to its own exit after a complete, verified, flushed download
// (process start-up and the check of an empty directory included for both clients), CPU seconds
// (user+sys) per GiB, peak RSS (VmHWM) and the peak anonymous RSS sampled every 50 ms; per run, the
// CPU the whole machine spent (/proc/stat: seeder, leechers and kernel) per GiB delivered, which bounds
// what any number of leechers can reach on this many cores; and the seeder's own CPU seconds (/proc, over the
// run) per GiB the leechers received (with several leechers, some of that came from each other).
// libtorrent 2 maps its files, so its peak RSS counts file pages: compare anonymous RSS for memory.
// Before EVERY run, as much memory as the run will write is touched and freed again (a file written and
// deleted): on VMs that hand idle memory back to the host (DAMON reclaim, balloon free-page reporting),
// the first write into reclaimed memory costs ~10x (measured here: 2.65 s vs 0.2 s of sys time per
// GiB), and without this the figures swing with how long memory sat idle, not with the client.
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256Tree } from "../test/support/files.ts";
import { BTPEER } from "../test/support/btpeer.ts";
import { freePort } from "../test/support/ports.ts";
import { stopAllServices } from "../test/support/processes.ts";
import { mktorrent } from "../test/support/torrents.ts";
import { BenchError, startLeecher, startSeeder, type ClientKind, type ClientSettings, type LeechResult } from "./swarm/clients.ts";
import { makeSmallFiles, parseSize, formatSize } from "./swarm/data.ts";
import { mib, printTable, type Row } from "./swarm/table.ts";
import { compareSums, machineBusySeconds, processCpuSeconds, warmMemory } from "./measure.ts";

// The benchmark's btpeer processes keep their DHT on loopback (an older --btpeer binary ignores this):
// a measurement on this machine must not join the public DHT.
process.env.BTPEER_DHT_LOOPBACK_ONLY = "1";

const ALL = ["bt-bt", "bt-bt-plain", "bt-bt-rc4", "lt-lt", "lt-bt", "bt-lt", "bt-4", "copy", "capped", "multi"] as const;
type ConfigId = (typeof ALL)[number];

interface Options {
  only: ConfigId[];
  sizes: number[];
  runs: number;
  pieceLength: number;
  maxMinutes: number;
  keep: boolean;
  /** btpeer --upload-limit of the seeder in the `capped` configurations. */
  seedLimit: string;
  settings: ClientSettings;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    only: [...ALL],
    sizes: [parseSize("1G"), parseSize("4G")],
    runs: 3,
    pieceLength: parseSize("1M"),
    maxMinutes: 20,
    keep: false,
    seedLimit: "50M",
    settings: { btpeerCmd: BTPEER, poolMiB: 64, ltHighPerformance: true },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--only") {
      o.only = next()
        .split(",")
        .map((c) => {
          if (!(ALL as readonly string[]).includes(c)) throw new Error(`unknown configuration ${c}; pick from ${ALL.join(", ")}`);
          return c as ConfigId;
        });
    } else if (a === "--size") o.sizes = next().split(",").map(parseSize);
    else if (a === "--runs") o.runs = Math.max(1, Number(next()));
    else if (a === "--piece") o.pieceLength = parseSize(next());
    else if (a === "--pool") o.settings.poolMiB = Math.max(1, Number(next()));
    else if (a === "--btpeer") o.settings.btpeerCmd = [path.resolve(next())];
    else if (a === "--lt-defaults") o.settings.ltHighPerformance = false;
    else if (a === "--max-minutes") o.maxMinutes = Number(next());
    else if (a === "--keep") o.keep = true;
    else if (a === "--seed-limit") o.seedLimit = next();
    else throw new Error(`unknown option ${a}; see the header of bench/swarm.ts`);
  }
  return o;
}

/** One data set on disk: the seed directory (the torrent's content is inside it), its torrent and checksums. */
interface Dataset {
  label: string;
  bytes: number;
  seedDir: string;
  /** The torrent's top-level name (a file, or the directory of a multi-file torrent). */
  name: string;
  torrent: string;
  sums: Map<string, string>;
}

class Bench {
  private readonly datasets = new Map<string, Dataset>();
  private readonly deadline: number;
  constructor(
    private readonly o: Options,
    private readonly tmp: string,
  ) {
    this.deadline = Date.now() + o.maxMinutes * 60_000;
  }

  async dataset(kind: "single" | "multi", size: number): Promise<Dataset> {
    const key = `${kind}-${size}`;
    const have = this.datasets.get(key);
    if (have) return have;
    const seedDir = path.join(this.tmp, `seed-${key}`);
    let name: string;
    let bytes: number;
    if (kind === "single") {
      name = `data-${formatSize(size)}.bin`;
      makeRandomFile(path.join(seedDir, name), size, (size % 1000) + 3);
      bytes = size;
    } else {
      name = "small-files";
      bytes = makeSmallFiles(path.join(seedDir, name), 1000, 64 * 1024, 1024 * 1024, 11);
    }
    const torrent = mktorrent({
      source: path.join(seedDir, name),
      out: path.join(this.tmp, `${key}.torrent`),
      pieceLength: kind === "multi" ? 256 * 1024 : this.o.pieceLength,
    });
    const ds: Dataset = {
      label: kind === "single" ? formatSize(size) : `1000 files, ${formatSize(bytes)}`,
      bytes,
      seedDir,
      name,
      torrent,
      sums: await sha256Tree(seedDir),
    };
    this.datasets.set(key, ds);
    return ds;
  }

  private timeoutFor(bytes: number, leechers: number, seedLimit?: string): number {
    // Generous: 20 MB/s is far below any working client; a capped seeder sends every byte at least once.
    return Math.ceil(60 + (bytes * leechers) / 20e6 + (seedLimit ? (2 * bytes) / parseSize(seedLimit) : 0));
  }

  /**
   * `seedLimit`: the seeder's --upload-limit (btpeer seeders only); `btpeerArgs`: extra options for every btpeer
   * of this configuration; `seedEnv`: the btpeer seeder's environment.
   */
  async run(
    config: string,
    seederKind: ClientKind,
    leecherKind: ClientKind,
    ds: Dataset,
    leechers: number,
    seedLimit?: string,
    btpeerArgs: string[] = [],
    seedEnv?: Record<string, string>,
  ): Promise<Row> {
    const settings = { ...this.o.settings, btpeerArgs };
    const row: Row = {
      config,
      size: ds.label,
      seeder: seederKind,
      leecher: leecherKind,
      leechers,
      mbps: [],
      cpuPerGiB: [],
      peakRss: [],
      peakAnon: [],
      seconds: [],
      machineCpuPerGiB: [],
      busyCores: [],
      seederCpuPerGiB: [],
      bytes: ds.bytes,
    };
    const seedPort = freePort();
    let seeder;
    try {
      seeder = await startSeeder(seederKind, settings, ds.torrent, ds.seedDir, seedPort, seedLimit, seedEnv);
    } catch (e) {
      row.error = `seeder: ${(e as Error).message.split("\n")[0]}`;
      console.error((e as Error).message);
      return row;
    }
    try {
      for (let r = 0; r < this.o.runs; r++) {
        if (Date.now() > this.deadline) {
          row.error = `stopped: --max-minutes ${this.o.maxMinutes} reached`;
          break;
        }
        warmMemory(this.tmp, ds.bytes * leechers);
        const ports = Array.from({ length: leechers }, () => freePort());
        const outs = ports.map((_, i) => path.join(this.tmp, `leech-${i}`));
        for (const out of outs) removeDir(out);
        const started = performance.now();
        const busyBefore = machineBusySeconds();
        const seederBefore = processCpuSeconds(seeder.pid) ?? 0;
        const running = await Promise.all(
          ports.map((port, i) => {
            // Every leecher knows the seeder and all the other leechers, so they can trade pieces.
            const peers = [seeder.address, ...ports.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`)];
            return startLeecher(leecherKind, settings, ds.torrent, outs[i]!, port, peers, this.timeoutFor(ds.bytes, leechers, seedLimit));
          }),
        );
        const results: LeechResult[] = await Promise.all(running.map((l) => l.result));
        const wall = (performance.now() - started) / 1000;
        const busy = machineBusySeconds() - busyBefore;
        const seederCpu = (processCpuSeconds(seeder.pid) ?? seederBefore) - seederBefore;
        for (const out of outs) {
          const got = await sha256Tree(out);
          const diff = compareSums(got, ds.sums);
          if (diff) throw new BenchError("checksum-mismatch", `${config} ${ds.label}: data in ${out} does not match the seed: ${diff}`);
          if (!this.o.keep) removeDir(out);
        }
        const gib = ds.bytes / 2 ** 30;
        row.seconds.push(wall);
        row.mbps.push(leechers === 1 ? ds.bytes / 1e6 / results[0]!.seconds : (ds.bytes * leechers) / 1e6 / wall);
        row.cpuPerGiB.push(results.reduce((s, x) => s + x.cpuSeconds, 0) / leechers / gib);
        row.peakRss.push(Math.max(...results.map((x) => x.peakRss)));
        row.peakAnon.push(Math.max(...results.map((x) => x.peakAnon)));
        row.machineCpuPerGiB.push(busy / (gib * leechers));
        row.busyCores.push(busy / wall);
        row.seederCpuPerGiB.push(seederCpu / (gib * leechers));
        console.log(
          `  ${config} ${ds.label} run ${r + 1}: ${row.mbps.at(-1)!.toFixed(0)} MB/s, ${row.cpuPerGiB.at(-1)!.toFixed(2)} CPU s/GiB (seeder ${row.seederCpuPerGiB.at(-1)!.toFixed(2)}), ` +
            `peak RSS ${mib(row.peakRss.at(-1)!)} (anon ${mib(row.peakAnon.at(-1)!)}), ${wall.toFixed(1)} s, checksum ok`,
        );
      }
    } catch (e) {
      row.error = (e as Error).message.split("\n")[0];
      console.error((e as Error).message);
    } finally {
      await seeder.stop();
    }
    return row;
  }
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const tmp = makeTempDir("bench-swarm-");
  const bench = new Bench(o, tmp);
  const rows: Row[] = [];
  const started = Date.now();
  const [first] = o.sizes;
  if (first === undefined) throw new Error("--size needs at least one size");
  try {
    // Fresh memory is slow to touch on some VMs; write and drop as much as the largest run will write,
    // so the first measured run does not pay for it.
    warmMemory(tmp, Math.max(...o.sizes) * (o.only.includes("bt-4") || o.only.includes("capped") ? 4 : 1));
    console.log(`bench:swarm on loopback, ${o.runs} runs each, medians; temp dir ${tmp}`);
    for (const size of o.sizes) {
      if (o.only.includes("bt-bt")) rows.push(await bench.run("bt→bt", "btpeer", "btpeer", await bench.dataset("single", size), 1));
      if (o.only.includes("bt-bt-plain")) {
        rows.push(
          await bench.run("bt→bt, plain (--encryption disable)", "btpeer", "btpeer", await bench.dataset("single", size), 1, undefined, [
            "--encryption",
            "disable",
          ]),
        );
      }
      if (o.only.includes("bt-bt-rc4")) {
        rows.push(
          await bench.run("bt→bt, RC4 (--encryption require)", "btpeer", "btpeer", await bench.dataset("single", size), 1, undefined, [
            "--encryption",
            "require",
          ]),
        );
      }
      if (o.only.includes("lt-lt")) rows.push(await bench.run("lt→lt (reference)", "libtorrent", "libtorrent", await bench.dataset("single", size), 1));
    }
    const ds = await bench.dataset("single", first);
    if (o.only.includes("lt-bt")) rows.push(await bench.run("lt→bt", "libtorrent", "btpeer", ds, 1));
    if (o.only.includes("bt-lt")) rows.push(await bench.run("bt→lt", "btpeer", "libtorrent", ds, 1));
    if (o.only.includes("bt-4")) rows.push(await bench.run("bt→4×bt (aggregate)", "btpeer", "btpeer", ds, 4));
    if (o.only.includes("copy")) rows.push(await bench.run("bt→bt, seeder BTPEER_SPLICE=0", "btpeer", "btpeer", ds, 1, undefined, [], { BTPEER_SPLICE: "0" }));
    if (o.only.includes("capped")) {
      const cap = `seeder capped at ${o.seedLimit}/s`;
      rows.push(await bench.run(`bt→bt, ${cap}`, "btpeer", "btpeer", ds, 1, o.seedLimit));
      rows.push(await bench.run(`bt→4×bt (aggregate), ${cap}`, "btpeer", "btpeer", ds, 4, o.seedLimit));
    }
    if (o.only.includes("multi")) {
      const multi = await bench.dataset("multi", 0);
      rows.push(await bench.run("bt→bt", "btpeer", "btpeer", multi, 1));
      rows.push(await bench.run("lt→lt (reference)", "libtorrent", "libtorrent", multi, 1));
    }
    printTable(rows, o);
    console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await stopAllServices();
    if (!o.keep) removeDir(tmp);
  }
  if (rows.some((r) => r.error)) process.exitCode = 1;
}

await main();
