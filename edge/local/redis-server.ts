// Starts a throwaway redis-server on a free loopback port (no persistence, files in a temp dir) and
// stops it again. For `npm run start:redis`, tests and benchmarks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisConnection } from "./upstash-compat/redis-connection.ts";
import { RespStatus } from "./upstash-compat/resp.ts";

export const REDIS_INSTALL_HINT = "sudo apt-get install -y redis-server";

export class RedisServerError extends Error {
  override readonly name = "RedisServerError";
  constructor(
    readonly code: "redis-server-missing" | "redis-server-failed",
    message: string,
  ) {
    super(message);
  }
}

export interface RunningRedis {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (released before returning: another process could take it first). */
export function freeLoopbackPort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** `port`: that port (e.g. to bring a stopped server back where its clients look for it), else a free one. */
export async function startRedisServer(opts: { readyTimeoutMs?: number; port?: number } = {}): Promise<RunningRedis> {
  const binary = Bun.which("redis-server");
  if (!binary) throw new RedisServerError("redis-server-missing", `redis-server is not installed; install with: ${REDIS_INSTALL_HINT}`);
  if (opts.port !== undefined) return launch(binary, opts.port, opts.readyTimeoutMs ?? 10_000);
  let lastError: Error | undefined;
  // A port can be taken between our probe and redis binding it; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(binary, freeLoopbackPort(), opts.readyTimeoutMs ?? 10_000);
    } catch (error) {
      lastError = error as Error;
    }
  }
  throw lastError!;
}

async function launch(binary: string, port: number, readyTimeoutMs: number): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), "btswarm-redis-"));
  const proc = Bun.spawn(
    [binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning"],
    { stdout: "pipe", stderr: "pipe" },
  );
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      const output = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
      await stop();
      throw new RedisServerError("redis-server-failed", `redis-server exited with code ${proc.exitCode}: ${output.trim().slice(-500)}`);
    }
    if (await answersPing(port)) {
      return { host: "127.0.0.1", port, url: `redis://127.0.0.1:${port}`, stop };
    }
    await Bun.sleep(25);
  }
  await stop();
  throw new RedisServerError("redis-server-failed", `redis-server did not answer PING on port ${port} within ${readyTimeoutMs} ms`);
}

export async function answersPing(port: number, host = "127.0.0.1"): Promise<boolean> {
  try {
    const connection = await RedisConnection.open({ host, port });
    try {
      const [reply] = await connection.send([["PING"]]);
      return reply instanceof RespStatus && reply.text === "PONG";
    } finally {
      connection.close();
    }
  } catch {
    return false;
  }
}
