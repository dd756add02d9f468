// CPU time per UDP announce of two checkouts in ONE process, in alternating chunks: for A/B of the
// store and announce code on a shared machine, where separate runs of announce-cpu-inprocess.ts
// drift with other work by more than the change measured. Both trees' UdpTracker.respond answer the
// same packets (bench/udp-load.ts's: 200 swarms of 100 re-announcing, numwant 50), each with its own
// store and its own JIT-compiled code; the chunks alternate A B, B A, ... so a change in the
// machine's load falls on both. A/A (the same tree twice) read 0.955 to 1.037 over 13 runs of 30
// rounds on a shared 2-core machine: trust a ratio seen in several runs, not one.
//
//   bun bench/announce-cpu-interleaved.ts ROOT_A ROOT_B [ROUNDS]
import path from "node:path";
import { randomPeerAnnounce, udpLoadPeerIds } from "./udp-load.ts";

const roots = [process.argv[2], process.argv[3]].map((r) => {
  if (r === undefined) throw new Error("usage: bun bench/announce-cpu-interleaved.ts ROOT_A ROOT_B [ROUNDS]");
  return path.resolve(r);
});
const ROUNDS = Math.min(Number(process.argv[4] ?? 30), 200);
const CHUNK = 50_000;
const SEQUENCE = 65536;

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const swarms = Array.from({ length: 200 }, () => crypto.getRandomValues(new Uint8Array(20)));
const peerIds = udpLoadPeerIds(20_000);

/** A tracker from `root` on a fresh memory store; returns a function answering `count` announces. */
async function trackerFrom(root: string): Promise<(count: number, full: boolean) => void> {
  const { loadConfig } = await import(`${root}/edge/config.ts`);
  const { MemorySwarmStore } = await import(`${root}/edge/store/memory.ts`);
  const { trackerCore } = await import(`${root}/edge/announce-core.ts`);
  const { createLogger } = await import(`${root}/edge/log.ts`);
  const { ConnectionIds } = await import(`${root}/edge/udp/connection-id.ts`);
  const { UdpTracker } = await import(`${root}/edge/udp/udp-tracker.ts`);
  const config = loadConfig({});
  const store = new MemorySwarmStore({ maxSwarms: config.maxSwarms, maxPeers: config.maxPeers });
  const ids = ConnectionIds.withRandomKey();
  const tracker = new UdpTracker({ core: trackerCore(config, store, createLogger("warn")), connectionIds: ids });
  const connectionId = ids.issue("127.0.0.1", 40000, Date.now());
  const packets = Array.from({ length: SEQUENCE }, (_, i) => randomPeerAnnounce(connectionId, i, swarms, peerIds, 50));
  // Replies go to four slots in turn, as a batch's do.
  const out = new Uint8Array(2048 * 4);
  let n = 0;
  return (count, full) => {
    for (let i = 0; i < count; i++, n++) {
      const length = tracker.respond(packets[n & (SEQUENCE - 1)]!, "127.0.0.1", 40000, out, (n & 3) * 2048);
      if (typeof length !== "number" || (full && length < 20 + 6 * 50)) throw new Error("an announce was not answered with 50 peers in place");
    }
  };
}

const runs = [await trackerFrom(roots[0]!), await trackerFrom(roots[1]!)];
// Warm: every swarm full, the JIT done with both.
for (const run of runs) run(200_000, false);
const total = [0, 0];
let bBetter = 0;
for (let round = 0; round < ROUNDS; round++) {
  const took = [0, 0];
  for (const j of round % 2 === 0 ? [0, 1] : [1, 0]) {
    const start = cpuUs();
    runs[j]!(CHUNK, true);
    took[j] = cpuUs() - start;
    total[j]! += took[j]!;
  }
  if (took[1]! < took[0]!) bBetter++;
}
const per = (j: number) => (total[j]! / (CHUNK * ROUNDS)).toFixed(3);
console.log(
  `µs of CPU per UDP announce: A ${per(0)}, B ${per(1)}; B/A ${(total[1]! / total[0]!).toFixed(3)}, B better in ${bBetter}/${ROUNDS} rounds  (A ${roots[0]}, B ${roots[1]})`,
);
