// The conformance suite against real workerd (`wrangler dev`, local mode) on the Upstash store,
// through the local Upstash-compatible server to a real redis-server. Two workerd instances, one on
// 127.0.0.1 and one on [::1], share that Redis, so IPv6 requests really come from ::1.
import { describe } from "bun:test";
import { startRedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { CONFORMANCE_ENV, runConformance } from "./tracker/conformance.ts";
import { startWorkerd } from "./tracker/servers.ts";

describe.skipIf(!needs(PROGRAMS.redis))("workerd", () => {
  runConformance("workerd (wrangler dev) on Upstash store over redis-server", async () => {
    const redis = await startRedisStack();
    const secrets = { UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token };
    const started = await Promise.allSettled([
      startWorkerd({ host: "127.0.0.1", vars: CONFORMANCE_ENV, secrets }),
      startWorkerd({ host: "::1", vars: CONFORMANCE_ENV, secrets }),
    ]);
    const stopAll = async () => {
      await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
      await redis.stop();
    };
    const [v4, v6] = started;
    if (v4?.status !== "fulfilled" || v6?.status !== "fulfilled") {
      await stopAll();
      throw (v4?.status === "rejected" ? v4.reason : (v6 as PromiseRejectedResult).reason) as Error;
    }
    return { baseUrl: v4.value.baseUrl, baseUrl6: v6.value.baseUrl, stop: stopAll };
  });
});
