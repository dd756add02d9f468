// npm run bench:tracker — HTTP announces/s and p99 latency on loopback, our tracker (embedded store, on
// Bun) side by side with opentracker (C) and bittorrent-tracker (npm, on Node), in the same run.
//
// Load: wrk with bench/wrk/announce.lua, announces spread over 1,000 swarms from fresh random peer ids.
// Before loading, each tracker must answer sample announces with HTTP 200 and a valid bencoded peer list
// (a tracker that answers failures fast would win unfairly); after loading, it must still do so and
// wrk must have seen no non-2xx status. Each tracker runs on its own core where there are two or more
// (taskset), wrk on another. Several rounds, trackers interleaved, medians reported.
//
// One core per tracker, whole process: opentracker serves HTTP from one event-loop thread (its few
// helper threads share the core), bittorrent-tracker from Node's one JS thread, ours from Bun's. Ours
// runs as one process without `reusePort` workers on purpose: the embedded store lives in the
// process, so several processes would each keep their own swarms and hand out only their own peers.
// Run as root, trackers and wrk alike get nice -10 (--nice N changes it, 0 leaves priorities alone):
// other work on a shared machine then disturbs the figures less, and equally for every tracker.
//
// What bounds a figure is reported with it: the tracker's CPU time per request and its share of its
// core (from /proc, Linux), and the load generator's share of its own core. A tracker near 100% is
// the bound; wrk near 100% with the tracker well below means the figure is the load generator's
// ceiling on this machine, a lower bound for that tracker. The mean reply size shows each tracker
// handed out full peer lists under load, not short failures.
//
// Two connection modes, each its own table: "close" (one announce per TCP connection, as real clients
// announce: each from a different host) and "keep-alive" (connections reused; measures request handling
// alone; opentracker does not keep connections open, so wrk reconnects and counts read errors there).
//
// --only bun-serve,bun-serve-request adds the bound of ours on Bun: Bun.serve answering a fixed reply of
// the same size, and the same after reading the URL and the client address (tracker-http/bare-serve.ts).
// ours serves HTTP from its listener on raw syscalls (edge/adapter/ffi-http-server.ts) as `npm start` does on
// Linux x86-64; --only ours-bun-serve adds ours with TRACKER_HTTP_FFI=0 (HTTP from Bun.serve, as elsewhere).
// --only ffi-serve adds a probe of the same reply (after reading the request line and the client's
// address) from a listener on raw syscalls through bun:ffi, Linux only (tracker-http/ffi-serve.ts).
// The tables also give each tracker's context switches per request: a tracker that goes idle and is
// woken for each connection pays that wake-up in CPU time (a few µs here), one that finds several
// connections waiting each time does not.
//
//   bun bench/tracker-http.ts [--runs 5] [--duration 3] [--connections 32] [--threads 1]
//                             [--only ours,opentracker,bittorrent-tracker,bun-serve,bun-serve-request,ffi-serve,ours-bun-serve]
//                             [--modes close,keep-alive] [--no-pin] [--nice N]
/// <reference path="../shared/bencode-package.d.ts" />
import bencode from "bencode";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTempDir, removeDir } from "../test/support/files.ts";
import { startOpentracker, percentEncodeHex } from "../test/support/opentracker.ts";
import { freePort } from "../test/support/ports.ts";
import { spawnService, stopAllServices } from "../test/support/processes.ts";
import { pct, printTable, rate, trackerShare, wrkShare } from "./tracker-http/table.ts";
import { type Mode, niceWrap, raisePriority, type Run, runWrk, type Tracker } from "./tracker-http/wrk.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const SWARMS = 1000;

interface Options {
  runs: number;
  duration: number;
  connections: number;
  threads: number;
  only: string[];
  modes: Mode[];
  pin: boolean;
  /** Niceness for trackers and wrk alike (negative = ahead of other work on the machine); null = unchanged. */
  nice: number | null;
}

function fail(message: string): never {
  throw new Error(message);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    runs: 5,
    duration: 3,
    connections: 32,
    threads: 1,
    only: ["ours", "opentracker", "bittorrent-tracker"],
    modes: ["close", "keep-alive"],
    pin: true,
    nice: process.getuid?.() === 0 ? -10 : null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--runs") o.runs = Math.max(1, Number(next()));
    else if (a === "--duration") o.duration = Math.min(30, Math.max(1, Number(next())));
    else if (a === "--connections") o.connections = Math.max(1, Number(next()));
    else if (a === "--threads") o.threads = Math.max(1, Number(next()));
    else if (a === "--only") o.only = next().split(",");
    else if (a === "--modes")
      o.modes = next()
        .split(",")
        .map((m) => (m === "close" || m === "keep-alive" ? m : fail(`unknown mode ${m}`)));
    else if (a === "--no-pin") o.pin = false;
    else if (a === "--nice") o.nice = Number(next());
    else throw new Error(`unknown option ${a}; see the header of bench/tracker-http.ts`);
  }
  if (!o.only.includes("ours")) throw new Error("--only must include ours (the ratios are against it)");
  return o;
}

const CHECK_HASH = new Bun.CryptoHasher("sha1").update("bench check swarm").digest("hex");

function swarmHashes(): string[] {
  return Array.from({ length: SWARMS }, (_, i) => new Bun.CryptoHasher("sha1").update(`bench swarm ${i}`).digest("hex"));
}

function randomPeerIdEncoded(): string {
  return [...crypto.getRandomValues(new Uint8Array(20))].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

/** One announce as the Lua script sends it; returns the decoded reply or throws saying what is wrong. */
async function sampleAnnounce(t: Tracker, hash: string, left: number, port: number): Promise<Record<string, unknown>> {
  const url = `${t.announceUrl}?info_hash=${percentEncodeHex(hash)}&peer_id=${randomPeerIdEncoded()}&port=${port}&uploaded=0&downloaded=0&left=${left}&event=started&compact=1&numwant=50`;
  const res = await fetch(url);
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${t.name} answered HTTP ${res.status}: ${new TextDecoder().decode(body).slice(0, 200)}`);
  let reply: Record<string, unknown>;
  try {
    reply = bencode.decode(body) as Record<string, unknown>;
  } catch (_e) {
    throw new Error(`${t.name} answered bytes that are not bencode: ${new TextDecoder().decode(body).slice(0, 200)}`);
  }
  const failure = reply["failure reason"];
  if (failure !== undefined) throw new Error(`${t.name} refused the announce: ${new TextDecoder().decode(failure as Uint8Array)}`);
  if (typeof reply.interval !== "number") throw new Error(`${t.name} reply has no numeric interval`);
  if (!(reply.peers instanceof Uint8Array) || reply.peers.length % 6 !== 0) throw new Error(`${t.name} reply has no compact peers string`);
  return reply;
}

/** Proves the tracker serves the load's requests for real: 200, bencode, and peers handed out. */
async function checkServes(t: Tracker, hashes: string[]): Promise<void> {
  for (let i = 0; i < 10; i++) await sampleAnnounce(t, hashes[Math.floor(Math.random() * hashes.length)]!, 1000, 20000 + i);
  // Two peers in a swarm of its own: a leecher must be given the seeder.
  const hash = CHECK_HASH;
  await sampleAnnounce(t, hash, 0, 30001);
  const second = await sampleAnnounce(t, hash, 1000, 30002);
  if ((second.peers as Uint8Array).length < 6) throw new Error(`${t.name} gave a leecher no peers in a swarm with a seeder`);
}

async function checkPeerExchange(t: Tracker, hashes: string[]): Promise<void> {
  // For every tracker, including opentracker: a swarm of the load that got announces has peers to give.
  const reply = await sampleAnnounce(t, hashes[0]!, 1000, 30003);
  if ((reply.peers as Uint8Array).length < 6) throw new Error(`${t.name} gave no peers in a swarm that had announces`);
}

async function startTrackers(o: Options, dir: string, hashes: string[], pin: string[]): Promise<Tracker[]> {
  const trackers: Tracker[] = [];
  if (o.only.includes("ours")) {
    const port = freePort();
    const service = await spawnService({
      name: "ours (Bun, memory store)",
      cmd: [...pin, process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
      cwd: ROOT,
      env: { PORT: String(port), HOST: "127.0.0.1", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
      ready: { port },
    });
    trackers.push({ name: "ours", announceUrl: `http://127.0.0.1:${port}/announce`, service });
  }
  if (o.only.includes("ours-bun-serve")) {
    const port = freePort();
    const service = await spawnService({
      name: "ours-bun-serve (Bun, memory store, HTTP from Bun.serve)",
      cmd: [...pin, process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
      cwd: ROOT,
      env: { PORT: String(port), HOST: "127.0.0.1", TRACKER_HTTP_FFI: "0", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
      ready: { port },
    });
    trackers.push({ name: "ours-bun-serve", announceUrl: `http://127.0.0.1:${port}/announce`, service });
  }
  if (o.only.includes("opentracker")) {
    const ot = await startOpentracker({ infoHashes: [...hashes, CHECK_HASH], dir: path.join(dir, "opentracker"), wrap: pin });
    trackers.push({ name: "opentracker", announceUrl: ot.announceUrl, service: ot.service });
  }
  for (const bare of ["bun-serve", "bun-serve-request"]) {
    if (!o.only.includes(bare)) continue;
    const port = freePort();
    const service = await spawnService({
      name: `${bare} (reference)`,
      cmd: [...pin, process.execPath, path.join(ROOT, "bench/tracker-http/bare-serve.ts")],
      cwd: ROOT,
      env: { PORT: String(port), BARE: bare === "bun-serve" ? "fixed" : "request" },
      ready: { line: /^listening/ },
    });
    trackers.push({ name: bare, announceUrl: `http://127.0.0.1:${port}/announce`, service });
  }
  if (o.only.includes("ffi-serve")) {
    const port = freePort();
    const service = await spawnService({
      name: "ffi-serve (probe)",
      cmd: [...pin, process.execPath, path.join(ROOT, "bench/tracker-http/ffi-serve.ts")],
      cwd: ROOT,
      env: { PORT: String(port) },
      ready: { line: /^listening/ },
    });
    trackers.push({ name: "ffi-serve", announceUrl: `http://127.0.0.1:${port}/announce`, service });
  }
  if (o.only.includes("bittorrent-tracker")) {
    const port = freePort();
    const service = await spawnService({
      name: "bittorrent-tracker (Node)",
      cmd: [...pin, "node", path.join(ROOT, "bench/wrk/bittorrent-tracker-server.mjs"), String(port)],
      cwd: ROOT,
      ready: { line: /^listening/ },
    });
    trackers.push({ name: "bittorrent-tracker", announceUrl: `http://127.0.0.1:${port}/announce`, service });
  }
  return trackers;
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
async function main() {
  const o = parseOptions(process.argv.slice(2));
  for (const prog of ["wrk", ...(o.only.includes("opentracker") ? ["opentracker"] : []), ...(o.only.includes("bittorrent-tracker") ? ["node"] : [])]) {
    if (!Bun.which(prog)) throw new Error(`${prog} is not installed (Debian: apt-get install ${prog === "node" ? "nodejs" : prog})`);
  }
  const cores = os.availableParallelism();
  const pinned = o.pin && cores >= 2 && Bun.which("taskset") !== null;
  const trackerPin = [...niceWrap(o), ...(pinned ? ["taskset", "-c", "0"] : [])];
  const wrkCpus = pinned ? `1-${cores - 1}` : null;
  const dir = makeTempDir("bench-tracker-");
  const started = Date.now();
  try {
    const hashes = swarmHashes();
    const hashesFile = path.join(dir, "hashes.txt");
    fs.writeFileSync(hashesFile, `${hashes.join("\n")}\n`);
    const trackers = await startTrackers(o, dir, hashes, trackerPin);
    for (const t of trackers) await raisePriority(t.service.pid, o);
    for (const t of trackers) await checkServes(t, hashes);
    console.log(
      `tracker HTTP announce load: ${SWARMS} swarms, random peer ids, wrk -t${o.threads} -c${o.connections} -d${o.duration}s, ` +
        `${o.runs} rounds; ${pinned ? `trackers on CPU 0, wrk on CPU ${wrkCpus}` : "no CPU pinning"}; ` +
        `${o.nice === null ? "default priority" : `trackers and wrk at nice ${o.nice}`}; ${cores} cores; ` +
        `load average ${loadAverage()} (other work on the machine shows up as noise between rounds)`,
    );
    for (const mode of o.modes) {
      for (const t of trackers) await runWrk(t, o, hashesFile, mode, 1, wrkCpus); // warm-up (JIT, swarms populated)
      const results = new Map<string, Run[]>(trackers.map((t) => [t.name, []]));
      for (let r = 0; r < o.runs; r++) {
        // Rotate the order each round so that drift in machine load does not favour one tracker.
        const order = trackers.map((_, i) => trackers[(i + r) % trackers.length]!);
        for (const t of order) {
          const run = await runWrk(t, o, hashesFile, mode, o.duration, wrkCpus);
          const w = run.wrk;
          const bad = w.status_errors + w.connect_errors + w.timeouts;
          if (bad > 0) throw new Error(`${t.name}: ${w.status_errors} non-2xx, ${w.connect_errors} connect errors, ${w.timeouts} timeouts under load`);
          results.get(t.name)!.push(run);
          console.log(
            `  ${mode.padEnd(10)} round ${r + 1} ${t.name.padEnd(18)} ${rate(w).toFixed(0).padStart(8)} req/s  p99 ${(w.p99_us / 1000).toFixed(2)} ms  ` +
              `tracker CPU ${pct(trackerShare(run))}, wrk CPU ${pct(wrkShare(run))}  (read errors ${w.read_errors})`,
          );
        }
      }
      printTable(mode, trackers, results);
    }
    for (const t of trackers) {
      await checkServes(t, hashes);
      await checkPeerExchange(t, hashes);
    }
    console.log(
      `\n(total ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${loadAverage()}; every tracker answered 200 with valid bencoded peers before and after the load)`,
    );
  } finally {
    await stopAllServices();
    removeDir(dir);
  }
}

await main();
