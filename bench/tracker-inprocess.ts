// In-process announce rate: requests through the whole Hono app (`app.request()`: raw query parsing,
// validation, store, bencoding) on the memory store, spread over 1,000 swarms, against the memory
// store's announce alone measured in the same run (the ratio is what HTTP handling costs on top).
//
//   bun bench/tracker-inprocess.ts [--rounds 5] [--time 1000]
import { Bench } from "tinybench";
import { createApp } from "../edge/app.ts";
import { loadConfig } from "../edge/config.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { toHex } from "../shared/bytes.ts";
import { formatTable, median, type Row } from "../peer/bench/table.ts";

const SWARMS = 1000;
const PEERS_PER_SWARM = 60;
const ID_POOL = 8192;

function escapeAll(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b < 16 ? "0" : ""}${b.toString(16)}`;
  return out;
}

export async function benchTrackerInProcess(opts: { rounds?: number; time?: number } = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 5;
  const config = loadConfig({});
  const store = new MemorySwarmStore();
  const app = createApp({ store, config, clientIp: () => "10.1.2.3" });
  const hashes = Array.from({ length: SWARMS }, () => crypto.getRandomValues(new Uint8Array(20)));
  const ids = Array.from({ length: ID_POOL }, () => crypto.getRandomValues(new Uint8Array(20)));
  const escHashes = hashes.map(escapeAll);
  const escIds = ids.map(escapeAll);
  const hexHashes = hashes.map(toHex);
  const hexIds = ids.map(toHex);
  // Swarms with peers in them, so every announce samples a full numwant of 50.
  const now = Date.now();
  for (let s = 0; s < SWARMS; s++) {
    for (let p = 0; p < PEERS_PER_SWARM; p++) {
      await store.announce({
        infoHash: hexHashes[s]!,
        peerId: hexIds[(s * PEERS_PER_SWARM + p) % ID_POOL]!,
        ip: `10.0.${p}.${s % 250}`,
        port: 6881 + p,
        left: p % 3 === 0 ? 0 : 1000,
        event: "started",
        numwant: 0,
        now,
        peerTtlMs: 3_600_000,
      });
    }
  }
  let i = 0;
  const viaApp = async () => {
    const n = i++;
    const url = `http://tracker.bench/announce?info_hash=${escHashes[n % SWARMS]}&peer_id=${escIds[n % ID_POOL]}&port=${6881 + (n % 1000)}&uploaded=0&downloaded=0&left=${n % 4 === 0 ? 0 : 5000}`;
    const res = await app.request(url);
    await res.arrayBuffer();
  };
  const storeOnly = async () => {
    const n = i++;
    await store.announce({
      infoHash: hexHashes[n % SWARMS]!,
      peerId: hexIds[n % ID_POOL]!,
      ip: "10.1.2.3",
      port: 6881 + (n % 1000),
      left: n % 4 === 0 ? 0 : 5000,
      event: "",
      numwant: 50,
      now: Date.now(),
      peerTtlMs: config.peerTtlSec * 1000,
    });
  };
  const app_: number[] = [];
  const ref: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: opts.time ?? 1000, warmupTime: 100 });
    bench.add("app.request announce", viaApp);
    bench.add("MemorySwarmStore.announce", storeOnly);
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result.state !== "completed") throw new Error(`${task.name}: ${task.result.state}`);
      (task.name.startsWith("app") ? app_ : ref).push(task.result.throughput.p50);
    }
  }
  return [
    {
      figure: `Tracker announces in process (Hono app.request, memory store, ${SWARMS} swarms, numwant 50)`,
      value: median(app_),
      unit: "announces/s",
      reference: { label: "MemorySwarmStore.announce alone", value: median(ref) },
    },
  ];
}

if (import.meta.main) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? Number(process.argv[at + 1]) : undefined;
  };
  console.log(formatTable(await benchTrackerInProcess({ rounds: arg("rounds"), time: arg("time") })));
}
