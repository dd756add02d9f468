// The private-tracker store suite (users, passkeys, allowlist, accounting) on the embedded store and
// on the Upstash store over a real redis-server (through the local Upstash-compatible server), plus
// the Redis cost model of a passkey announce: still one EVALSHA, and a refused one writes nothing.
import { afterAll, beforeAll, describe } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { RedisConnection } from "../edge/local/upstash-compat/redis-connection.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { UpstashSwarmStore } from "../edge/store/upstash.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { runAccountConformance } from "./tracker/account-conformance.ts";

runAccountConformance("memory", () => {
  const store = new MemorySwarmStore();
  return {
    store,
    writes: async () => ({
      ...store.footprint(),
      announces: (await store.stats(0)).announces,
      users: await store.accounts.listUsers(0, 1e9),
      torrents: await store.accounts.listTorrents(0, 1e9),
    }),
  };
});

describe.skipIf(!needs(PROGRAMS.redis))("on redis", () => {
  let stack: RedisStack;
  let admin: RedisConnection;
  beforeAll(async () => {
    stack = await startRedisStack();
    admin = await RedisConnection.open({ host: "127.0.0.1", port: stack.redisPort });
  });
  afterAll(async () => {
    admin?.close();
    await stack?.stop();
  });

  runAccountConformance("Upstash over redis-server", () => ({
    store: new UpstashSwarmStore(new Redis({ url: stack.restUrl, token: stack.token, enableTelemetry: false, enableAutoPipelining: false, retry: false })),
    // Redis's own count of changes since the last save: any write at all moves it.
    async writes() {
      const [info] = await admin.send([["INFO", "persistence"]]);
      return /rdb_changes_since_last_save:(\d+)/.exec(new TextDecoder().decode(info as Uint8Array))?.[1];
    },
  }));
});
