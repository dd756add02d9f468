// Starting the real tracker under workerd (`wrangler dev`, local mode) and under `deno serve`, on a
// loopback address, with the given variables. Each returns once /health answers.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../support/ports.ts";
import { makeTempDir, removeDir, spawnService } from "../support/processes.ts";
import { startRedisStack, type RedisStack } from "../support/redis.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BIN = join(ROOT, "node_modules/.bin");

export interface RunningTracker {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Loopback only, no telemetry, no update check, no fetch of Cloudflare's `Request.cf` data. */
const QUIET_WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
};

function urlFor(host: string, port: number): string {
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function toml(value: string): string {
  return JSON.stringify(value);
}

/**
 * `wrangler dev` in local mode (real workerd) from a temp directory holding a generated config: the
 * project's Workers entry, `vars` as [vars], `secrets` in .dev.vars (as `wrangler secret put` would
 * provide them in production). Its state (.wrangler/) stays in the temp directory.
 */
export async function startWorkerd(opts: { host: string; vars: Record<string, string>; secrets: Record<string, string> }): Promise<RunningTracker> {
  const dir = makeTempDir("btswarm-workerd-");
  const config = [
    `name = "btswarm-tracker-test"`,
    `main = ${toml(join(ROOT, "edge/adapter/workers.ts"))}`,
    `compatibility_date = "2026-04-01"`,
    `[vars]`,
    ...Object.entries(opts.vars).map(([k, v]) => `${k} = ${toml(v)}`),
  ].join("\n");
  writeFileSync(join(dir, "wrangler.toml"), `${config}\n`);
  writeFileSync(
    join(dir, ".dev.vars"),
    `${Object.entries(opts.secrets)
      .map(([k, v]) => `${k}=${toml(v)}`)
      .join("\n")}\n`,
  );
  const port = freePort();
  const baseUrl = urlFor(opts.host, port);
  try {
    const service = await spawnService({
      name: `wrangler dev on ${opts.host}`,
      cwd: dir,
      cmd: [
        join(BIN, "wrangler"),
        "dev",
        "--ip",
        opts.host,
        "--port",
        String(port),
        "--inspector-port",
        String(freePort()),
        "--show-interactive-dev-session=false",
        "--log-level",
        "warn",
      ],
      env: { ...QUIET_WRANGLER_ENV, HOME: dir, XDG_CONFIG_HOME: join(dir, ".config") },
      ready: { url: `${baseUrl}/health` },
      readyTimeoutMs: 90_000,
      graceMs: 5000,
    });
    return {
      baseUrl,
      async stop() {
        await service.stop();
        removeDir(dir);
      },
    };
  } catch (err) {
    removeDir(dir);
    throw err;
  }
}

/** `deno serve` of the Deno entry (edge/adapter/deno.ts, run from the repository's root) on host:port. */
export function denoServe(host: string, port: number): string[] {
  const at = host.includes(":") ? `[${host}]` : host;
  return [join(BIN, "deno"), "serve", "--allow-net", "--allow-env", "--host", at, "--port", String(port), "edge/adapter/deno.ts"];
}

/** No update check, no prompt, no colours in what the tests read. */
export const QUIET_DENO_ENV = { DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", NO_COLOR: "1" };

/** `deno serve` of the Deno entry with the given variables as its environment. */
export async function startDeno(opts: { host: string; env: Record<string, string> }): Promise<RunningTracker> {
  const port = freePort();
  const baseUrl = urlFor(opts.host, port);
  const service = await spawnService({
    name: `deno serve on ${opts.host}`,
    cwd: ROOT,
    cmd: denoServe(opts.host, port),
    env: { ...opts.env, ...QUIET_DENO_ENV },
    ready: { url: `${baseUrl}/health` },
    readyTimeoutMs: 60_000,
  });
  return { baseUrl, stop: async () => void (await service.stop()) };
}

/**
 * `npm run start:redis` (Bun, Upstash store, the local Upstash-compatible server) in front of the given
 * redis-server, with the given variables.
 */
export async function startBunOnRedis(opts: { host: string; redisPort: number; env: Record<string, string> }): Promise<RunningTracker> {
  const port = freePort();
  const baseUrl = urlFor(opts.host, port);
  const service = await spawnService({
    name: `start:redis on ${opts.host}`,
    cwd: ROOT,
    cmd: [process.execPath, "edge/local/start-redis.ts"],
    env: { ...opts.env, HOST: opts.host, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${opts.redisPort}` },
    ready: { url: `${baseUrl}/health` },
  });
  return { baseUrl, stop: async () => void (await service.stop()) };
}

/**
 * The same tracker started twice, on 127.0.0.1 and on [::1], both over one Redis stack, so IPv6
 * requests really come from ::1. If either fails to start, both and the stack are stopped.
 */
export async function startOnBothLoopbacks(
  start: (host: string, redis: RedisStack) => Promise<RunningTracker>,
): Promise<{ baseUrl: string; baseUrl6: string; stop(): Promise<void> }> {
  const redis = await startRedisStack();
  const started = await Promise.allSettled([start("127.0.0.1", redis), start("::1", redis)]);
  const stop = async () => {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    await redis.stop();
  };
  const [v4, v6] = started;
  if (v4?.status !== "fulfilled" || v6?.status !== "fulfilled") {
    await stop();
    throw (v4?.status === "rejected" ? v4.reason : (v6 as PromiseRejectedResult).reason) as Error;
  }
  return { baseUrl: v4.value.baseUrl, baseUrl6: v6.value.baseUrl, stop };
}
