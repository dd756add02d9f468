// A Redis outage as the real tracker process (`npm start` on the Upstash store, through the local
// Upstash-compatible server to a real redis-server) answers it and logs it. The test stops that
// redis-server and starts it again on the same port, and reads the tracker's stderr.
import { afterAll, describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { startRedisServer, type RunningRedis } from "../edge/local/redis-server.ts";
import { startUpstashCompat, type UpstashCompatServer } from "../edge/local/upstash-compat/server.ts";
import { encodeCompactPeer } from "../shared/compact.ts";
import { toHex } from "../shared/bytes.ts";
import { freePort } from "./support/ports.ts";
import { spawnService, type Service } from "./support/processes.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { announceQuery, escapeAll, get, randomId, text } from "./tracker/http.ts";

const ROOT = resolve(import.meta.dir, "..");
const FAILING_ANNOUNCES = 60;
const FAILING_SCRAPES = 5;

interface Tracker {
  service: Service;
  baseUrl: string;
  /** Replies with "temporarily unavailable", as the client saw them. */
  failures: number;
}

async function startTracker(compat: UpstashCompatServer, level: string | undefined): Promise<Tracker> {
  const port = freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const service = await spawnService({
    name: `tracker (log level ${level ?? "default"})`,
    cmd: [process.execPath, join(ROOT, "edge/adapter/bun.ts")],
    env: { PORT: String(port), HOST: "127.0.0.1", UPSTASH_REDIS_REST_URL: compat.url, UPSTASH_REDIS_REST_TOKEN: compat.token, TRACKER_LOG_LEVEL: level },
    ready: { url: `${baseUrl}/health` },
  });
  return { service, baseUrl, failures: 0 };
}

/** Whether `check` came true before the safety deadline. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}

describe.skipIf(!needs(PROGRAMS.redis))("a Redis outage, seen from the tracker process", () => {
  let redis: RunningRedis | undefined;
  let compat: UpstashCompatServer | undefined;
  const trackers: Tracker[] = [];
  afterAll(async () => {
    await Promise.all(trackers.map((t) => t.service.stop()));
    await compat?.stop();
    await redis?.stop();
  }, 30_000);

  test("every request during it gets a bencoded failure; the log says once that it started and once that it ended, with the count, and never shows peer ids or addresses", async () => {
    redis = await startRedisServer();
    compat = startUpstashCompat({ redis: { host: redis.host, port: redis.port }, token: `test-${crypto.randomUUID()}` });
    const [byDefault, debug] = [await startTracker(compat, undefined), await startTracker(compat, "debug")];
    trackers.push(byDefault, debug);

    const hash = randomId();
    const secrets: string[] = [toHex(hash)];
    const announceOnce = async (t: Tracker, i: number) => {
      const peerId = randomId();
      const port = 20000 + i;
      secrets.push(toHex(peerId), escapeAll(peerId), toHex(encodeCompactPeer({ ip: "127.0.0.1", port })), `127.0.0.1:${port}`);
      return get(`${t.baseUrl}/announce?${announceQuery({ infoHash: hash, peerId, port, left: 100 })}`);
    };
    const expectUnavailable = (t: Tracker, reply: Awaited<ReturnType<typeof get>>) => {
      expect(reply.status).toBe(200);
      expect(text(reply.dict["failure reason"])).toContain("temporarily unavailable");
      t.failures++;
    };

    for (const t of trackers) expect((await announceOnce(t, 0)).dict["failure reason"]).toBeUndefined();
    await redis.stop();

    let n = 1;
    for (const t of trackers) {
      for (let i = 0; i < FAILING_ANNOUNCES; i++) expectUnavailable(t, await announceOnce(t, n++));
      for (let i = 0; i < FAILING_SCRAPES; i++) expectUnavailable(t, await get(`${t.baseUrl}/scrape?info_hash=${escapeAll(hash)}`));
    }

    redis = await startRedisServer({ port: redis.port });
    for (const t of trackers) {
      // The first announces after the restart may still fail while the compat server reconnects.
      const served = await until(async () => {
        const reply = await announceOnce(t, n++);
        if (reply.dict["failure reason"] === undefined) return true;
        expectUnavailable(t, reply);
        return false;
      }, 20_000);
      expect(served).toBe(true);
    }

    const ended = (t: Tracker) => t.service.errLines.some((line) => line.includes("available again"));
    // Lines arrive through a pipe; the assertions below say what is wrong if they never come.
    await until(() => trackers.every(ended), 10_000);

    const lines = byDefault.service.errLines.filter((line) => line.trim() !== "");
    expect(lines, lines.join("\n")).toHaveLength(2);
    expect(lines[0]).toMatch(/^tracker warn: store unavailable \(backend-error\)/);
    expect(lines[1]).toMatch(/^tracker info: store available again after \d+\.\d s \(backend-error\); \d+ requests failed meanwhile$/);
    expect(Number(/; (\d+) requests failed/.exec(lines[1]!)?.[1])).toBe(byDefault.failures);

    // Debug says more (a line per failed request), still without a peer id or address.
    expect(debug.service.errLines.length).toBeGreaterThan(debug.failures);
    for (const t of trackers) {
      const log = t.service.errLines.join("\n");
      for (const secret of secrets) expect(log.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  }, 120_000);
});
