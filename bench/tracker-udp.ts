// npm run bench:tracker:udp — UDP (BEP 15) announces per CPU-second of the tracker process: ours (the
// real Bun entry, embedded store) against opentracker's UDP, the reference, in the same run, as a ratio;
// and ours on Bun's own socket (TRACKER_UDP_FFI=0) beside it, which the batched socket replaced.
//
// Load: bench/udp-load.ts from this process on loopback, bounded in count and time: a fixed number
// of sockets, each connected once, each keeping a few announces in flight, spread over a fixed set of
// swarms (whitelisted for opentracker) from a fixed pool of peer ids. Each tracker first gets a warm-up
// run (swarms filled, JIT warm), then measured runs, trackers interleaved. What is measured is the
// tracker's own CPU time (utime + stime of all its threads, from /proc/<pid>/stat) per announce
// answered, so the figure does not depend on how fast the load generator is. A run counts only if
// every reply was an announce reply (no error packets) and replies carried peers.
//
// Trackers run on core 0 (taskset) where there are two cores or more, the load generator on core 1.
//
// The load goes out through sendmmsg/recvmmsg (udp-load.ts's "batched" engine) so that the tracker,
// not the load generator, is the one kept busy: each run prints the share of its time the tracker was
// on the CPU. `--load bun-socket` sends it through Bun.udpSocket instead, a datagram per call, which
// keeps a tracker busy only part of the time. `--rate N` paces the batched load at N announces per
// second at most (in 1 ms ticks): a tracker below saturation, which sleeps and wakes between ticks.
//
//   bun bench/tracker-udp.ts [--runs 3] [--announces 1000000] [--seconds 20] [--sockets 16] [--window 8] [--load batched|bun-socket] [--rate N]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { toHex } from "../shared/bytes.ts";
import { makeTempDir, removeDir } from "../test/support/files.ts";
import { startOpentracker } from "../test/support/opentracker.ts";
import { freePort } from "../test/support/ports.ts";
import { spawnService, stopAllServices, type Service } from "../test/support/processes.ts";
import { defaultUdpLoadEngine, runUdpLoad, type UdpLoadEngine, type UdpLoadOptions, type UdpLoadResult } from "./udp-load.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const CLOCK_TICKS_PER_S = 100; // USER_HZ: what /proc/<pid>/stat counts in on Linux

interface Options {
  runs: number;
  announces: number;
  seconds: number;
  sockets: number;
  window: number;
  load: UdpLoadEngine;
  /** Announces per second at most; 0: as fast as the tracker answers. */
  rate: number;
}

const USAGE = "usage: bun bench/tracker-udp.ts [--runs N] [--announces N] [--seconds N] [--sockets N] [--window N] [--load batched|bun-socket] [--rate N]";

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 3, announces: 1_000_000, seconds: 20, sockets: 16, window: 8, load: defaultUdpLoadEngine(), rate: 0 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, "");
    const text = argv[++i];
    if (key === "load") {
      if (text !== "batched" && text !== "bun-socket") throw new Error(USAGE);
      o.load = text;
      continue;
    }
    const value = Number(text);
    if (!(key in o) || !Number.isInteger(value) || value < 1) throw new Error(USAGE);
    o[key as Exclude<keyof Options, "load">] = value;
  }
  // Bounds on the bounds: a mistyped figure must not turn into an hour-long flood.
  o.announces = Math.min(o.announces, 5_000_000);
  o.seconds = Math.min(o.seconds, 120);
  if (o.rate > 0 && o.load !== "batched") throw new Error("--rate needs --load batched");
  return o;
}

/** utime + stime of a process (all threads), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

interface Tracker {
  name: string;
  port: number;
  service: Service;
}

interface Measured {
  load: UdpLoadResult;
  cpuS: number;
  perCpuS: number;
}

async function measure(t: Tracker, load: Omit<UdpLoadOptions, "port">): Promise<Measured> {
  const before = cpuSeconds(t.service.pid);
  const result = await runUdpLoad({ ...load, port: t.port });
  const cpuS = cpuSeconds(t.service.pid) - before;
  if (result.refused > 0) throw new Error(`${t.name} answered ${result.refused} announces with an error packet`);
  if (result.answered === 0 || result.peersReturned / result.answered < 1)
    throw new Error(`${t.name} handed out no peers (${result.peersReturned} for ${result.answered} replies)`);
  return { load: result, cpuS, perCpuS: result.answered / cpuS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const dir = makeTempDir("bench-tracker-udp-");
  const swarms = Array.from({ length: 200 }, () => crypto.getRandomValues(new Uint8Array(20)));
  const pinned = os.cpus().length >= 2 && Bun.which("taskset") !== null;
  const pin = pinned ? ["taskset", "-c", "0"] : [];
  if (pinned) Bun.spawnSync(["taskset", "-pc", "1", String(process.pid)], { stdout: "ignore" });
  try {
    const port = freePort();
    const ours = await spawnService({
      name: "ours (Bun, memory store)",
      cmd: [...pin, process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
      cwd: ROOT,
      env: { PORT: String(port), HOST: "127.0.0.1", TRACKER_LOG_LEVEL: "warn", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
      ready: { line: /tracker UDP at/ },
    });
    // The same entry on Bun's own socket (TRACKER_UDP_FFI=0), to show what the batched socket saves.
    const bunSocketPort = freePort();
    const oursOnBunSocket = await spawnService({
      name: "ours (Bun.udpSocket)",
      cmd: [...pin, process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
      cwd: ROOT,
      env: {
        PORT: String(bunSocketPort),
        HOST: "127.0.0.1",
        TRACKER_LOG_LEVEL: "warn",
        TRACKER_UDP_FFI: "0",
        UPSTASH_REDIS_REST_URL: undefined,
        UPSTASH_REDIS_REST_TOKEN: undefined,
      },
      ready: { line: /tracker UDP at/ },
    });
    const otPort = freePort();
    const ot = await startOpentracker({ infoHashes: swarms.map(toHex), dir: path.join(dir, "opentracker"), port: otPort, udpPort: otPort, wrap: pin });
    const trackers: Tracker[] = [
      { name: "ours", port, service: ours },
      { name: "ours-bun", port: bunSocketPort, service: oursOnBunSocket },
      { name: "opentracker", port: otPort, service: ot.service },
    ];
    const rate = o.rate > 0 ? o.rate : undefined;
    const load = { announces: o.announces, seconds: o.seconds, sockets: o.sockets, window: o.window, swarms, peers: 20_000, numWant: 50, engine: o.load, rate };
    console.log(
      `UDP announces per tracker CPU-second: ${o.runs} runs of ${o.announces} announces (at most ${o.seconds} s), ${o.sockets} sockets x ${o.window} in flight, ` +
        `${swarms.length} swarms, 20000 peer ids, numwant 50, load sent ${o.load === "batched" ? "in batches (sendmmsg)" : "through Bun.udpSocket"}${rate ? ` at ${rate}/s at most` : ""}; ${pinned ? "trackers on core 0, load on core 1" : "not pinned"}; load average ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
    );
    for (const t of trackers) await measure(t, { ...load, announces: Math.min(50_000, o.announces) });
    const results = new Map<string, Measured[]>(trackers.map((t) => [t.name, []]));
    for (let run = 0; run < o.runs; run++) {
      for (const t of trackers) {
        const m = await measure(t, load);
        results.get(t.name)!.push(m);
        console.log(
          `  run ${run + 1} ${t.name.padEnd(11)} ${m.load.answered} answered, ${m.load.lost} lost, in ${m.load.seconds.toFixed(1)} s; ` +
            `tracker CPU ${m.cpuS.toFixed(2)} s (${Math.round((100 * m.cpuS) / m.load.seconds)}% of the run) -> ${Math.round(m.perCpuS)} announces/CPU-s; ${(m.load.peersReturned / m.load.answered).toFixed(1)} peers/reply`,
        );
      }
    }
    const ourRate = median(results.get("ours")!.map((m) => m.perCpuS));
    const otRate = median(results.get("opentracker")!.map((m) => m.perCpuS));
    const bunSocketRate = median(results.get("ours-bun")!.map((m) => m.perCpuS));
    console.log(
      `median announces per CPU-second: ours ${Math.round(ourRate)}, opentracker ${Math.round(otRate)}; ratio ours/opentracker ${(ourRate / otRate).toFixed(2)}x; ` +
        `ours on Bun.udpSocket (TRACKER_UDP_FFI=0) ${Math.round(bunSocketRate)} (${(bunSocketRate / otRate).toFixed(2)}x)`,
    );
  } finally {
    await stopAllServices();
    removeDir(dir);
  }
}

await main();
