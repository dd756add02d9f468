// The UDP tracker's JavaScript cost per announce, in process, with no socket: UdpTracker.handle on
// announce packets shaped as bench/udp-load.ts sends them (200 swarms, 20,000 peers, each peer in one
// swarm with its own port and key, 20% seeders, numwant 50), on the memory store as the Bun entry
// makes it. Beside it the memory store's announce alone with the same inputs (compact only, as the
// UDP tracker asks). What the socket and the kernel add on top is bench/tracker-udp.ts's business.
//
//   bun bench/tracker-udp-inprocess.ts [--rounds 5] [--count 200000]
import { trackerCore } from "../edge/announce-core.ts";
import { loadConfig } from "../edge/config.ts";
import { createLogger } from "../edge/log.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { ConnectionIds } from "../edge/udp/connection-id.ts";
import { UdpTracker } from "../edge/udp/udp-tracker.ts";
import { toHex } from "../shared/bytes.ts";
import { randomPeerAnnounce, udpLoadPeerIds } from "./udp-load.ts";

const SWARMS = 200;
const PEERS = 20_000;
const SENDER = "127.0.0.1";
const SENDER_PORT = 40000;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive whole number`);
  return value;
}

const rounds = Math.min(arg("rounds", 5), 50);
const count = Math.min(arg("count", 200_000), 5_000_000);
const config = loadConfig({});
const store = new MemorySwarmStore({ maxSwarms: config.maxSwarms, maxPeers: config.maxPeers });
const core = trackerCore(config, store, createLogger("warn"));
const ids = ConnectionIds.withRandomKey();
const tracker = new UdpTracker({ core, connectionIds: ids });
const connectionId = ids.issue(SENDER, SENDER_PORT, Date.now());

const swarms = Array.from({ length: SWARMS }, () => crypto.getRandomValues(new Uint8Array(20)));
const peerIds = udpLoadPeerIds(PEERS);
// A fixed sequence of packets (random peers, as the load sends them), replayed round after round.
const SEQUENCE = 65536;
const packets = Array.from({ length: SEQUENCE }, (_, i) => randomPeerAnnounce(connectionId, i, swarms, peerIds, 50));
const hexSwarms = swarms.map(toHex);
const hexPeers = peerIds.map(toHex);
const keys = peerIds.map((_, peer) => (peer + 1).toString(16).toUpperCase().padStart(8, "0"));

async function viaTracker(n: number): Promise<number> {
  let peers = 0;
  for (let i = 0; i < n; i++) {
    const reply = await tracker.handle(packets[i & (SEQUENCE - 1)]!, SENDER, SENDER_PORT);
    if (reply === null || reply.length < 20) throw new Error("no announce reply");
    peers += (reply.length - 20) / 6;
  }
  return peers / n;
}

function storeOnly(n: number): void {
  const peerTtlMs = config.peerTtlSec * 1000;
  for (let i = 0; i < n; i++) {
    const p = packets[i & (SEQUENCE - 1)]!;
    const peer = (p[52]! << 24) | (p[53]! << 16) | (p[54]! << 8) | p[55]!;
    store.announceNow({
      infoHash: hexSwarms[peer % SWARMS]!,
      peerId: hexPeers[peer]!,
      ip: SENDER,
      port: 1024 + (peer % 60000),
      left: p[71] === 0 && p[70] === 0 ? 0 : 1_000_000,
      event: "",
      numwant: 50,
      key: keys[peer],
      now: Date.now(),
      peerTtlMs,
      compactOnly: true,
      allowlistOnly: false,
    });
  }
}

// Fill every swarm, warm the JIT.
await viaTracker(Math.max(count, 4 * PEERS));
const udpUs: number[] = [];
const storeUs: number[] = [];
let peersPerReply = 0;
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  peersPerReply = await viaTracker(count);
  udpUs.push(((performance.now() - t) * 1000) / count);
  t = performance.now();
  storeOnly(count);
  storeUs.push(((performance.now() - t) * 1000) / count);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `UDP announce in process (UdpTracker.handle, memory store, ${SWARMS} swarms, ${PEERS} peers, numwant 50, ${peersPerReply.toFixed(1)} peers/reply): ` +
    `${median(udpUs).toFixed(2)} us; store alone ${median(storeUs).toFixed(2)} us (medians of ${rounds} rounds of ${count}: ${udpUs.map((u) => u.toFixed(2)).join(" ")} | ${storeUs.map((u) => u.toFixed(2)).join(" ")})`,
);
