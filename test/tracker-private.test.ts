// The private-tracker HTTP suite (admin API, passkey announces and their accounting) against Bun in
// process on the memory store, `npm run start:redis` (Bun on the Upstash store over redis-server),
// `deno serve` and workerd (`wrangler dev`) on the Upstash store over redis-server. On workerd the
// admin token is a secret (.dev.vars), as `wrangler secret put TRACKER_ADMIN_TOKEN` provides it.
import { describe } from "bun:test";
import { BUN_CLIENT_ADDRESS, serveTracker } from "../edge/adapter/bun-serve.ts";
import { setupTracker } from "../edge/server-setup.ts";
import { startRedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { ADMIN_TOKEN, PRIVATE_ENV, runPrivateConformance, type PrivateTrackerUnderTest } from "./tracker/private-conformance.ts";
import { startBunOnRedis, startDeno, startWorkerd, type RunningTracker } from "./tracker/servers.ts";

const ENV = { ...PRIVATE_ENV, TRACKER_ADMIN_TOKEN: ADMIN_TOKEN };

for (const ffi of [true, false]) {
  runPrivateConformance(`Bun in process, memory store, HTTP ${ffi ? "on raw syscalls" : "from Bun.serve"}`, async () => {
    const { app, log, storeKind } = setupTracker(ENV, { ...BUN_CLIENT_ADDRESS, withoutUpstash: "memory" });
    const server = serveTracker(app, { hostname: "127.0.0.1", port: 0, log, storeKind, ffi });
    return { baseUrl: `http://127.0.0.1:${server.port}`, stop: async () => void (await server.stop()) };
  });
}

/** A tracker on 127.0.0.1 over its own redis-server, stopped together. */
async function onRedis(start: (redis: Awaited<ReturnType<typeof startRedisStack>>) => Promise<RunningTracker>): Promise<PrivateTrackerUnderTest> {
  const redis = await startRedisStack();
  try {
    const tracker = await start(redis);
    return { baseUrl: tracker.baseUrl, stop: async () => (await tracker.stop(), await redis.stop()) };
  } catch (err) {
    await redis.stop();
    throw err;
  }
}

describe.skipIf(!needs(PROGRAMS.redis))("on redis-server", () => {
  runPrivateConformance("npm run start:redis (Bun, Upstash store)", () =>
    onRedis((redis) => startBunOnRedis({ host: "127.0.0.1", redisPort: redis.redisPort, env: ENV })),
  );
  runPrivateConformance("deno serve, Upstash store", () =>
    onRedis((redis) => startDeno({ host: "127.0.0.1", env: { ...ENV, UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token } })),
  );
  runPrivateConformance("workerd (wrangler dev), Upstash store", () =>
    onRedis((redis) =>
      startWorkerd({
        host: "127.0.0.1",
        vars: PRIVATE_ENV,
        secrets: { UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token, TRACKER_ADMIN_TOKEN: ADMIN_TOKEN },
      }),
    ),
  );
});
