// The UDP conformance suite against our tracker's real entries (Bun on its batched socket and on
// Bun.udpSocket, Deno; IPv4 and IPv6 loopback) and against opentracker, the reference, in the same run.
import { rmSync } from "node:fs";
import { toHex } from "../shared/bytes.ts";
import { startOpentracker } from "./support/opentracker.ts";
import { freePort } from "./support/ports.ts";
import { makeTempDir } from "./support/processes.ts";
import { startRedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { runUdpConformance, UDP_CONFORMANCE_HASHES } from "./tracker/udp-conformance.ts";
import { startBunTracker, startDenoTracker, type UdpTrackerProcess } from "./tracker/udp-servers.ts";
import { describe } from "bun:test";

runUdpConformance("Bun entry on 127.0.0.1", () => startBunTracker({ host: "127.0.0.1" }));
runUdpConformance("Bun entry on ::1 (18-byte peers)", () => startBunTracker({ host: "::1" }));
runUdpConformance("Bun entry on Bun.udpSocket (TRACKER_UDP_FFI=0)", () => startBunTracker({ host: "127.0.0.1", env: { TRACKER_UDP_FFI: "0" } }));
runUdpConformance("Deno entry on 127.0.0.1", () => startDenoTracker({ host: "127.0.0.1" }));

describe.skipIf(!needs(PROGRAMS.redis))("Upstash store", () => {
  /** A tracker entry on the Upstash store, through the local Upstash-compatible server to redis-server. */
  const onUpstash = (start: (env: Record<string, string>) => Promise<UdpTrackerProcess>) => async () => {
    const redis = await startRedisStack();
    try {
      const tracker = await start({ UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token });
      return { ...tracker, stop: async () => (await tracker.stop(), await redis.stop()) };
    } catch (err) {
      await redis.stop();
      throw err;
    }
  };
  runUdpConformance(
    "Bun entry on the Upstash store over redis-server",
    onUpstash((env) => startBunTracker({ host: "127.0.0.1", env })),
  );
  runUdpConformance(
    "Deno entry on the Upstash store over redis-server",
    onUpstash((env) => startDenoTracker({ host: "127.0.0.1", env })),
  );
});

describe.skipIf(!needs(PROGRAMS.opentracker))("reference", () => {
  runUdpConformance(
    "opentracker (reference)",
    async () => {
      const dir = makeTempDir("opentracker-udp-");
      const port = freePort();
      const ot = await startOpentracker({ infoHashes: UDP_CONFORMANCE_HASHES.map(toHex), dir, udpPort: port, port });
      return {
        host: "127.0.0.1",
        port,
        async stop() {
          await ot.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    { reference: true },
  );
});
