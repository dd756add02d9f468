// A real redis-server plus the local Upstash-compatible REST server in front of it, on free loopback
// ports: what the Upstash store, the workerd and the Deno runs talk to in tests.
import { startRedisServer } from "../../edge/local/redis-server.ts";
import { startUpstashCompat, type UpstashCompatServer } from "../../edge/local/upstash-compat/server.ts";

export interface RedisStack {
  redisPort: number;
  /** UPSTASH_REDIS_REST_URL for the compat server. */
  restUrl: string;
  /** UPSTASH_REDIS_REST_TOKEN it checks. */
  token: string;
  /** The compat server itself (request counts per path). */
  compat: UpstashCompatServer;
  /** Stops the compat server and redis-server and removes redis' temp dir; safe to call twice. */
  stop(): Promise<void>;
}

export async function startRedisStack(): Promise<RedisStack> {
  const redis = await startRedisServer();
  const token = `test-${crypto.randomUUID()}`;
  let compat: UpstashCompatServer;
  try {
    compat = startUpstashCompat({ redis: { host: redis.host, port: redis.port }, token });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  return {
    redisPort: redis.port,
    restUrl: compat.url,
    token,
    compat,
    async stop() {
      await compat.stop();
      await redis.stop();
    },
  };
}
