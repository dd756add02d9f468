// `npm run start:redis`: the local tracker on the Upstash store, through the local Upstash-compatible
// server, in front of the redis-server at REDIS_URL, or of one started here (and stopped on exit).
import { BUN_CLIENT_ADDRESS, serveTracker } from "../adapter/bun-serve.ts";
import { setupTracker, UPSTASH_TOKEN_VAR, UPSTASH_URL_VAR } from "../server-setup.ts";
import type { RedisAddress } from "./upstash-compat/redis-connection.ts";
import { startUpstashCompat } from "./upstash-compat/server.ts";
import { answersPing, RedisServerError, startRedisServer, type RunningRedis } from "./redis-server.ts";

function fail(message: string, code: number): never {
  console.error(`start:redis: ${message}`);
  process.exit(code);
}

/** redis://[:password@]host[:port][/db] */
function parseRedisUrl(text: string): RedisAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`REDIS_URL "${text}" is not a URL; expected redis://host:port`, 2);
  }
  if (url.protocol !== "redis:") fail(`REDIS_URL must start with redis:// (TLS is not supported here), got "${text}"`, 2);
  const db = url.pathname.replace(/^\//, "");
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}

let ownRedis: RunningRedis | null = null;
let redis: RedisAddress;
if (process.env.REDIS_URL) {
  redis = parseRedisUrl(process.env.REDIS_URL);
  if (!redis.password && !(await answersPing(redis.port, redis.host))) {
    fail(`no Redis answers at ${process.env.REDIS_URL}; start one, or unset REDIS_URL to let this script start its own`, 1);
  }
} else {
  try {
    ownRedis = await startRedisServer();
  } catch (error) {
    if (error instanceof RedisServerError && error.code === "redis-server-missing") {
      fail("redis-server is not installed; install with: sudo apt-get install -y redis-server (or set REDIS_URL)", 127);
    }
    fail((error as Error).message, 1);
  }
  redis = { host: ownRedis.host, port: ownRedis.port };
}

const compat = startUpstashCompat({ redis, token: crypto.randomUUID() });
const env = { ...process.env, [UPSTASH_URL_VAR]: compat.url, [UPSTASH_TOKEN_VAR]: compat.token };
const { app, storeKind, log } = setupTracker(env, { ...BUN_CLIENT_ADDRESS, withoutUpstash: "memory" });
const hostname = process.env.HOST ?? "127.0.0.1";
const server = serveTracker(app, { hostname, port: Number(process.env.PORT ?? 8787), log, storeKind });

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await compat.stop();
  await ownRedis?.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());

const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
const redisLabel = ownRedis ? `${ownRedis.url} (started here, stopped on exit)` : process.env.REDIS_URL;
console.log(`redis-server:            ${redisLabel}`);
console.log(`Upstash-compatible REST: ${compat.url}`);
console.log(`btswarm tracker (${storeKind} store) at http://${shown}:${server.port}/announce`);
