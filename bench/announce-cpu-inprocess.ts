// CPU time per announce in process, through the two paths the Bun entry serves announces by, on the
// memory store as it makes it: HTTP's plain announce (plainAnnounceBody: the URL parsed, the store,
// the compact reply) with wrk's load (bench/wrk/announce.lua: 1,000 swarms, a fresh random peer id
// each time, a quarter seeders, numwant 50), and UDP's (UdpTracker.respond) with bench/udp-load.ts's
// (200 swarms, 20,000 peers re-announcing from their own port). What is measured is this process's
// CPU time (user + system), not wall time, so other work on a shared machine disturbs it less.
//
// For A/B of the store and announce code: pass another checkout's root (e.g. main's tree unpacked
// with `git archive main | tar -x -C DIR`, node_modules linked) and alternate runs with this one.
//
//   bun bench/announce-cpu-inprocess.ts [ROOT] [http|udp|both]
import path from "node:path";
import { randomPeerAnnounce, udpLoadPeerIds } from "./udp-load.ts";

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dir, ".."));
const mode = process.argv[3] ?? "both";
if (!["http", "udp", "both"].includes(mode)) throw new Error("usage: bun bench/announce-cpu-inprocess.ts [ROOT] [http|udp|both]");

const { loadConfig } = await import(`${root}/edge/config.ts`);
const { MemorySwarmStore } = await import(`${root}/edge/store/memory.ts`);
const { trackerCore } = await import(`${root}/edge/announce-core.ts`);
const { createLogger } = await import(`${root}/edge/log.ts`);
const { plainAnnounceBody } = await import(`${root}/edge/routes/plain-announce.ts`);
const { ConnectionIds } = await import(`${root}/edge/udp/connection-id.ts`);
const { UdpTracker } = await import(`${root}/edge/udp/udp-tracker.ts`);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function escapeAll(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `%${b < 16 ? "0" : ""}${b.toString(16).toUpperCase()}`;
  return out;
}

// Template literals make rope strings, which the first read flattens: a server's URLs come flat.
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const flat = (text: string) => decoder.decode(encoder.encode(text));

function newCore() {
  const config = loadConfig({});
  const store = new MemorySwarmStore({ maxSwarms: config.maxSwarms, maxPeers: config.maxPeers });
  return trackerCore(config, store, createLogger("warn"));
}

/** µs of CPU per HTTP announce, `measured` of them after `prefill` (the swarms grow as under wrk). */
function httpRun(prefill: number, measured: number): number {
  const t = { ...newCore(), warning: undefined, clientIp: () => "127.0.0.1" };
  const hashes = Array.from({ length: 1000 }, () => escapeAll(crypto.getRandomValues(new Uint8Array(20))));
  const urls: string[] = [];
  const id = new Uint8Array(20);
  for (let i = 0; i < prefill + measured; i++) {
    crypto.getRandomValues(id);
    const left = Math.random() < 0.25 ? 0 : 1 + Math.floor(Math.random() * 1e9);
    const port = 1024 + Math.floor(Math.random() * 64000);
    const hash = hashes[Math.floor(Math.random() * hashes.length)];
    urls.push(
      flat(`/announce?info_hash=${hash}&peer_id=${escapeAll(id)}&port=${port}&uploaded=0&downloaded=0&left=${left}&event=started&compact=1&numwant=50`),
    );
  }
  const header = () => undefined;
  const announce = (url: string) => {
    const reply = plainAnnounceBody(url, "127.0.0.1", header, t);
    if (!(reply instanceof Uint8Array)) throw new Error("an announce was not answered with a compact reply");
  };
  for (let i = 0; i < prefill; i++) announce(urls[i]!);
  const start = cpuUs();
  for (let i = prefill; i < urls.length; i++) announce(urls[i]!);
  return (cpuUs() - start) / measured;
}

/** µs of CPU per UDP announce, `measured` of them after `warm` (every peer listed, the JIT warm). */
function udpRun(warm: number, measured: number): number {
  const ids = ConnectionIds.withRandomKey();
  const tracker = new UdpTracker({ core: newCore(), connectionIds: ids });
  const connectionId = ids.issue("127.0.0.1", 40000, Date.now());
  const swarms = Array.from({ length: 200 }, () => crypto.getRandomValues(new Uint8Array(20)));
  const peerIds = udpLoadPeerIds(20_000);
  const SEQUENCE = 65536;
  const packets = Array.from({ length: SEQUENCE }, (_, i) => randomPeerAnnounce(connectionId, i, swarms, peerIds, 50));
  const out = new Uint8Array(1472);
  // Every swarm holds 100 peers once warm: from then on every reply must carry 50.
  const announce = (i: number, full: boolean) => {
    const length = tracker.respond(packets[i & (SEQUENCE - 1)]!, "127.0.0.1", 40000, out, 0);
    if (typeof length !== "number" || (full && length < 20 + 6 * 50)) throw new Error("an announce was not answered with 50 peers in place");
  };
  for (let i = 0; i < warm; i++) announce(i, false);
  const start = cpuUs();
  for (let i = 0; i < measured; i++) announce(i, true);
  return (cpuUs() - start) / measured;
}

const figures: string[] = [];
if (mode !== "udp") figures.push(`http ${httpRun(100_000, 100_000).toFixed(3)}`);
if (mode !== "http") figures.push(`udp ${udpRun(200_000, 300_000).toFixed(3)}`);
console.log(`${figures.join(" ")}  (µs of CPU per announce, ${root})`);
