// The conformance suite against `npm run start:redis`: Bun on the Upstash store, through the local
// Upstash-compatible server to a real redis-server, as real processes. Two of them, on 127.0.0.1 and
// [::1], share one redis-server, so IPv6 requests really come from ::1. Unlike the memory store, each
// announce here waits for Redis, which is what pipelined and half-closed requests tripped over.
import { describe } from "bun:test";
import { needs, PROGRAMS } from "./support/system.ts";
import { CONFORMANCE_ENV, runConformance } from "./tracker/conformance.ts";
import { startBunOnRedis, startOnBothLoopbacks } from "./tracker/servers.ts";

describe.skipIf(!needs(PROGRAMS.redis))("bun on redis", () => {
  runConformance("npm run start:redis (Bun, Upstash store over redis-server)", () =>
    startOnBothLoopbacks((host, redis) => startBunOnRedis({ host, redisPort: redis.redisPort, env: CONFORMANCE_ENV })),
  );
});
