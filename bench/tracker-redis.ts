// The Redis-backed tracker path: announces/s through the real UpstashSwarmStore, over the local
// Upstash-compatible REST server, into a local redis-server; and Redis calls per announce (must be 1).
// Reference measured in the same run: the same announce script sent straight to Redis over RESP.
// Also the script's own cost inside Redis (INFO commandstats usec_per_call of EVALSHA) for a public
// announce and for a private one (passkey, per-user accounting), measured in the same run.
// Every phase is bounded in count and time; medians over RUNS runs.  Run: bun bench/tracker-redis.ts
import { Redis } from "@upstash/redis/cloudflare";
import { getConnInfo } from "hono/bun";
import { createApp } from "../edge/app.ts";
import { DEFAULT_CONFIG } from "../edge/config.ts";
import { startRedisServer } from "../edge/local/redis-server.ts";
import { RedisConnection } from "../edge/local/upstash-compat/redis-connection.ts";
import { ANNOUNCE_SCRIPT } from "../edge/store/announce-script.ts";
import { UpstashSwarmStore } from "../edge/store/upstash.ts";
import { percentEncodeBytes } from "../shared/ids.ts";
import { fromHex } from "../shared/bytes.ts";

const MAX_ANNOUNCES = Number(process.env.BENCH_ANNOUNCES ?? 5000);
const MAX_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SWARMS = 1000;
const PEER_TTL_MS = 4200_000;

const randomHex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
const swarmHashes = Array.from({ length: SWARMS }, () => randomHex(20));

interface RunResult {
  count: number;
  seconds: number;
  latenciesMs: number[];
}

/** Runs `op` with CONCURRENCY in flight until MAX_ANNOUNCES are done or MAX_SECONDS have passed. */
async function load(op: (i: number) => Promise<unknown>): Promise<RunResult> {
  const start = performance.now();
  const deadline = start + MAX_SECONDS * 1000;
  const latenciesMs: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < MAX_ANNOUNCES && performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      await op(i);
      latenciesMs.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { count: latenciesMs.length, seconds: (performance.now() - start) / 1000, latenciesMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const USERS = 100;
const passkeys = Array.from({ length: USERS }, () => randomHex(16));

function privateAnnounceInput(i: number) {
  // Totals grow per user and torrent, so every announce books a delta (the accounting's full path).
  return { ...announceInput(i), passkey: passkeys[i % USERS]!, uploaded: i * 16384, downloaded: i * 8192 };
}

function announceInput(i: number) {
  const infoHash = swarmHashes[i % SWARMS]!;
  return {
    infoHash,
    // The same i is the same peer at every phase, so after the warm-up the swarms keep their size and
    // phases (public, private) are compared on equal swarms.
    peerId: (0xb7_0000_0000 + i).toString(16).padStart(40, "0"),
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 6881 + (i % 1000),
    left: i % 3 === 0 ? 0 : 1000,
    event: "" as const,
    numwant: 50,
    now: Date.now(),
    peerTtlMs: PEER_TTL_MS,
  };
}

async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream) {
    text += new TextDecoder().decode(chunk);
    if (text.includes("\n")) return text.slice(0, text.indexOf("\n")).trim();
  }
  throw new Error("the Upstash-compatible server exited before printing its URL");
}

interface CommandStat {
  calls: number;
  /** Microseconds Redis spent in the command, in all. */
  usec: number;
}

async function commandStats(admin: RedisConnection): Promise<Map<string, CommandStat>> {
  const [reply] = await admin.send([["INFO", "commandstats"]]);
  const text = new TextDecoder().decode(reply as Uint8Array);
  const stats = new Map<string, CommandStat>();
  for (const m of text.matchAll(/cmdstat_([a-z_|]+):calls=(\d+),usec=(\d+)/g)) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return stats;
}

const redisServer = await startRedisServer();
// The compat server runs in its own process, as Upstash would be another machine: the load generator,
// store and tracker in this process do not compete with it for one event loop.
const compatProc = Bun.spawn([process.execPath, new URL("../edge/local/upstash-compat/main.ts", import.meta.url).pathname], {
  env: { ...process.env, REDIS_HOST: redisServer.host, REDIS_PORT: String(redisServer.port), UPSTASH_COMPAT_TOKEN: "bench" },
  stdout: "pipe",
  stderr: "inherit",
});
try {
  await measure(await readFirstLine(compatProc.stdout));
} finally {
  compatProc.kill("SIGTERM");
  await compatProc.exited;
  await redisServer.stop();
}

async function measure(compatUrl: string): Promise<void> {
  const admin = await RedisConnection.open({ host: redisServer.host, port: redisServer.port });
  const direct = await RedisConnection.open({ host: redisServer.host, port: redisServer.port });
  const redis = new Redis({ url: compatUrl, token: "bench", enableTelemetry: false, enableAutoPipelining: false, retry: false });
  const store = new UpstashSwarmStore(redis);
  const app = createApp({ store, config: DEFAULT_CONFIG, clientIp: (c) => getConnInfo(c).remote.address });
  const tracker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });

  try {
    // Warm-up: loads the script into Redis (EVALSHA -> NOSCRIPT -> EVAL once) and fills the swarms a little.
    await load((i) => store.announce(announceInput(i)));
    const [loadReply] = await direct.send([["SCRIPT", "LOAD", ANNOUNCE_SCRIPT.replace("#!lua flags=allow-key-locking", "#!lua")]]);
    const directSha = new TextDecoder().decode(loadReply as Uint8Array);

    for (const passkey of passkeys) await store.accounts.createUser(`user-${passkey.slice(0, 8)}`, passkey);
    const overResp = (input: ReturnType<typeof announceInput>) => {
      const { keys, args } = store.scriptCall(input);
      return direct.send([["EVALSHA", directSha, String(keys.length), ...keys, ...args]]);
    };
    const phases: Record<string, (i: number) => Promise<unknown>> = {
      "script over RESP (reference)": (i) => overResp(announceInput(i)),
      "script over RESP, private (passkey, accounting)": (i) => overResp(privateAnnounceInput(i)),
      "store via Upstash REST": (i) => store.announce(announceInput(i)),
      "tracker HTTP + store": (i) => {
        const a = announceInput(i);
        const q = `info_hash=${percentEncodeBytes(fromHex(a.infoHash)!)}&peer_id=${percentEncodeBytes(fromHex(a.peerId)!)}&port=${a.port}&uploaded=0&downloaded=0&left=${a.left}&compact=1`;
        return fetch(`http://127.0.0.1:${tracker.port}/announce?${q}`).then((r) => r.arrayBuffer());
      },
    };

    const rows: string[][] = [];
    let referenceRate = 0;
    for (const [name, op] of Object.entries(phases)) {
      const rates: number[] = [];
      const p99s: number[] = [];
      let calls = 0;
      let usec = 0;
      let announces = 0;
      for (let run = 0; run < RUNS; run++) {
        await admin.send([["CONFIG", "RESETSTAT"]]);
        const result = await load(op);
        const stats = await commandStats(admin);
        const evalsha = stats.get("evalsha") ?? { calls: 0, usec: 0 };
        calls += evalsha.calls + (stats.get("eval")?.calls ?? 0);
        usec += evalsha.usec;
        announces += result.count;
        rates.push(result.count / result.seconds);
        p99s.push(percentile(result.latenciesMs, 0.99));
      }
      const rate = median(rates);
      if (referenceRate === 0) referenceRate = rate;
      const perCall = calls > 0 ? (usec / calls).toFixed(1) : "-";
      rows.push([name, rate.toFixed(0), (rate / referenceRate).toFixed(2), median(p99s).toFixed(2), (calls / announces).toFixed(3), perCall]);
    }

    const header = ["path", "announces/s", "vs RESP", "p99 ms", "Redis calls/announce", "µs in Redis/call"];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
    console.log(`tracker on Redis: ${SWARMS} swarms, ${CONCURRENCY} in flight, median of ${RUNS} runs of <= ${MAX_ANNOUNCES} announces / ${MAX_SECONDS} s`);
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log("Redis calls = EVALSHA + EVAL commands in INFO commandstats (commands inside the script not counted).");
    console.log("µs in Redis/call = EVALSHA usec ÷ calls in INFO commandstats: the script's own cost on the Redis server.");
  } finally {
    await tracker.stop(true);
    direct.close();
    admin.close();
  }
}
