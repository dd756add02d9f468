// The conformance suite against real workerd (`wrangler dev`, local mode) on the Upstash store,
// through the local Upstash-compatible server to a real redis-server. Two workerd instances, one on
// 127.0.0.1 and one on [::1], share that Redis, so IPv6 requests really come from ::1.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeTempDir, removeDir } from "./support/processes.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { CONFORMANCE_ENV, runConformance } from "./tracker/conformance.ts";
import { announceQuery, get, randomId, text } from "./tracker/http.ts";
import { startOnBothLoopbacks, startWorkerd } from "./tracker/servers.ts";

const ROOT = resolve(import.meta.dir, "..");

describe.skipIf(!needs(PROGRAMS.redis))("workerd", () => {
  runConformance(
    "workerd (wrangler dev) on Upstash store over redis-server",
    () =>
      startOnBothLoopbacks((host, redis) =>
        startWorkerd({ host, vars: CONFORMANCE_ENV, secrets: { UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token } }),
      ),
    { hostAnsweredBy: "workerd" },
  );
});

describe("Workers deployment", () => {
  test("wrangler deploy --dry-run bundles the Worker from the project's wrangler.toml cleanly", () => {
    const out = makeTempDir("btswarm-dry-run-");
    try {
      // The project's config, copied with an absolute `main`, so wrangler's .wrangler/ scratch dir
      // lands in the temp dir instead of the checkout.
      const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
      expect(config).toMatch(/^main = "edge\/adapter\/workers.ts"$/m);
      writeFileSync(join(out, "wrangler.toml"), config.replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, "edge/adapter/workers.ts"))}`));
      const run = Bun.spawnSync([join(ROOT, "node_modules/.bin/wrangler"), "deploy", "--dry-run", "--outdir", join(out, "dist")], {
        cwd: out,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", HOME: out },
        stdout: "pipe",
        stderr: "pipe",
      });
      const output = `${run.stdout.toString()}\n${run.stderr.toString()}`;
      expect(run.exitCode, output).toBe(0);
      expect(output).toContain("--dry-run: exiting now.");
      expect(readdirSync(join(out, "dist"))).toContain("workers.js");
    } finally {
      removeDir(out);
    }
  });

  test("without the Upstash secrets, workerd refuses announces with a reason naming them and /health says why", async () => {
    const tracker = await startWorkerd({ host: "127.0.0.1", vars: CONFORMANCE_ENV, secrets: {} });
    try {
      const res = await get(`${tracker.baseUrl}/announce?${announceQuery({ infoHash: randomId(), peerId: randomId(), port: 6881, left: 1 })}`);
      expect(res.status).toBe(200);
      expect(text(res.dict["failure reason"])).toContain("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN");
      const health = await fetch(`${tracker.baseUrl}/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { problem: string }).problem).toContain("not configured");
    } finally {
      await tracker.stop();
    }
  }, 120_000);
});
