// The conformance suite against `deno serve` of the Deno entry on the Upstash store, through the
// local Upstash-compatible server to a real redis-server. Two Deno servers, on 127.0.0.1 and [::1],
// share that Redis, so IPv6 requests really come from ::1.
import { describe } from "bun:test";
import { needs, PROGRAMS } from "./support/system.ts";
import { CONFORMANCE_ENV, runConformance } from "./tracker/conformance.ts";
import { startDeno, startOnBothLoopbacks } from "./tracker/servers.ts";

describe.skipIf(!needs(PROGRAMS.redis))("deno", () => {
  runConformance(
    "deno serve on Upstash store over redis-server",
    () =>
      startOnBothLoopbacks((host, redis) =>
        startDeno({ host, env: { ...CONFORMANCE_ENV, UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token } }),
      ),
    { answersAfterHalfClose: false },
  );
});
