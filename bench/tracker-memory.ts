// Memory held by the embedded tracker store (MemorySwarmStore): heap bytes per swarm (one peer each,
// the shape of a flood of announces for made-up info hashes) and per peer (in swarms of 1,000), and
// the heap a flood costs under the default caps. Each figure is next to a reference from the same run:
// the bare data (a Map from the same info-hash strings to 6-byte addresses), or the store without caps.
// Heap = JSC's heapSize after a full synchronous collection, before and after.
//
//   bun bench/tracker-memory.ts [--swarms 100000] [--peers 200000] [--flood 200000]
import { heapStats } from "bun:jsc";
import { DEFAULT_CONFIG } from "../edge/config.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { toHex } from "../shared/bytes.ts";
import { formatTable, type Row } from "../peer/bench/table.ts";

const TTL_MS = DEFAULT_CONFIG.peerTtlSec * 1000;
const MiB = 1024 * 1024;

function heapBytes(): number {
  Bun.gc(true);
  Bun.gc(true);
  return heapStats().heapSize;
}

/** Heap growth while `fill` builds something that `keep` keeps alive until measured. */
async function growth(fill: () => Promise<unknown>): Promise<number> {
  const before = heapBytes();
  const kept = await fill();
  const after = heapBytes();
  // Read after measuring, so the collector cannot free it early.
  if (kept === null) throw new Error("unreachable");
  return after - before;
}

const randomHex = () => toHex(crypto.getRandomValues(new Uint8Array(20)));

/**
 * `swarms` random swarms of `perSwarm` leechers each, all at distinct addresses, announced with
 * numwant 0. Ids and addresses are made here, so the strings the store keeps count in its figure.
 */
async function fill(store: MemorySwarmStore, swarms: number, perSwarm: number): Promise<MemorySwarmStore> {
  const now = Date.now();
  let n = 0;
  for (let s = 0; s < swarms; s++) {
    const infoHash = randomHex();
    for (let p = 0; p < perSwarm; p++, n++) {
      const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      await store.announce({ infoHash, peerId: randomHex(), ip, port: 6881 + (n % 1000), left: 1000, event: "started", numwant: 0, now, peerTtlMs: TTL_MS });
    }
  }
  return store;
}

/** What one child process measures: the heap growth of one build, in bytes. */
const MEASURES = {
  swarms: (n: number) => growth(() => fill(new MemorySwarmStore(UNCAPPED), n, 1)),
  bare: (n: number) => growth(async () => new Map(Array.from({ length: n }, () => [randomHex(), new Uint8Array(6)]))),
  peers: (n: number) => growth(() => fill(new MemorySwarmStore(UNCAPPED), Math.ceil(n / 1000), 1000)),
  floodCapped: (n: number) => growth(() => fill(new MemorySwarmStore(), n, 1)),
  floodUncapped: (n: number) => growth(() => fill(new MemorySwarmStore(UNCAPPED), n, 1)),
};
type Measure = keyof typeof MEASURES;
const UNCAPPED = { maxSwarms: Number.MAX_SAFE_INTEGER, maxPeers: Number.MAX_SAFE_INTEGER };

/**
 * Each figure in a fresh process: in one process, what an earlier figure left for the collector (a
 * conservative stack scan can keep it alive a while) would blur the next one's before/after.
 */
function measureInChild(what: Measure, n: number): number {
  const child = Bun.spawnSync([process.execPath, import.meta.path, "--measure", what, "--n", String(n)], { stderr: "inherit" });
  if (child.exitCode !== 0) throw new Error(`measuring ${what} failed (exit ${child.exitCode})`);
  return Number(child.stdout.toString().trim());
}

export async function benchTrackerMemory(opts: { swarms?: number; peers?: number; flood?: number } = {}): Promise<Row[]> {
  const swarms = opts.swarms ?? 100_000;
  const peers = Math.ceil((opts.peers ?? 200_000) / 1000) * 1000;
  const flood = opts.flood ?? 200_000;
  const perSwarm = measureInChild("swarms", swarms) / swarms;
  const bare = measureInChild("bare", swarms) / swarms;
  const perPeer = measureInChild("peers", peers) / peers;
  const capped = measureInChild("floodCapped", flood);
  const free = measureInChild("floodUncapped", flood);
  return [
    {
      figure: `Embedded store heap per swarm (${swarms.toLocaleString("en-US")} swarms, one peer each)`,
      value: perSwarm,
      unit: "bytes",
      reference: { label: "Map of as many info-hash strings to 6-byte addresses", value: bare },
    },
    {
      figure: `Embedded store heap per peer (${peers.toLocaleString("en-US")} peers in swarms of 1,000)`,
      value: perPeer,
      unit: "bytes",
      reference: { label: "per swarm with its one peer, above", value: perSwarm },
    },
    {
      figure: `Heap growth, ${flood.toLocaleString("en-US")} announces for random info hashes, default caps (${DEFAULT_CONFIG.maxSwarms.toLocaleString("en-US")} swarms, ${DEFAULT_CONFIG.maxPeers.toLocaleString("en-US")} peers)`,
      value: capped / MiB,
      unit: "MiB",
      reference: { label: "without caps", value: free / MiB },
    },
  ];
}

if (import.meta.main) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const measure = arg("measure") as Measure | undefined;
  if (measure) {
    console.log(await MEASURES[measure](Number(arg("n"))));
  } else {
    const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
    console.log(formatTable(await benchTrackerMemory({ swarms: num("swarms"), peers: num("peers"), flood: num("flood") })));
  }
}
