// The dashboard at `/` in headless Chromium (Debian's, through puppeteer-core), served by the real
// Bun entry and the real Deno entry on loopback: the page renders, shows the numbers a test swarm
// produced, and updates by itself after more announces, with no console error, failed request or
// CSP violation. The Bun run saves a screenshot to test-artifacts/dashboard.png (CI keeps it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "./support/ports.ts";
import { makeTempDir, removeDir, spawnService, type Service } from "./support/processes.ts";
import { launchChromium, loadPuppeteer, type Browser, type BrowserPage } from "./support/browser.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { startDeno, type RunningTracker } from "./tracker/servers.ts";
import { announce, escapeAll } from "./tracker/http.ts";

const ROOT = resolve(import.meta.dir, "..");
export const SCREENSHOT = join(ROOT, "test-artifacts/dashboard.png");

const puppeteer = await loadPuppeteer();
const id = (tag: number, n: number) => new Uint8Array(20).fill(tag).fill(n, 0, 1);
const SWARM_A = id(0xaa, 1);
const SWARM_B = id(0xbb, 2);

async function startBun(): Promise<RunningTracker> {
  const port = freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const service: Service = await spawnService({
    name: "bun edge/adapter/bun.ts",
    cwd: ROOT,
    cmd: [process.execPath, "edge/adapter/bun.ts"],
    env: { PORT: String(port), HOST: "127.0.0.1", TRACKER_UDP_PORT: "0", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
    ready: { url: `${baseUrl}/health` },
  });
  return { baseUrl, stop: async () => void (await service.stop()) };
}

const text = (page: BrowserPage, id: string) => page.evaluate((i: string) => document.getElementById(i)!.textContent ?? "", id);
/** Waits (within a generous deadline) until the element shows `want`. */
const showing = (page: BrowserPage, id: string, want: string) =>
  page.waitForFunction((i: string, w: string) => document.getElementById(i)?.textContent === w, { timeout: 30_000, polling: 100 }, id, want);
const chartTotal = (page: BrowserPage) =>
  page.evaluate(() => [...document.querySelectorAll("#chart rect")].reduce((sum, r) => sum + Number(r.getAttribute("data-count")), 0));
const busiestRows = (page: BrowserPage) =>
  page.evaluate(() => [...document.querySelectorAll("#busiest tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));

const runtimes: Array<[string, () => Promise<RunningTracker>, string | null]> = [
  ["Bun", startBun, SCREENSHOT],
  ["Deno", () => startDeno({ host: "127.0.0.1", env: { TRACKER_UDP_PORT: "0" } }), null],
];

describe.skipIf(!puppeteer || !needs(PROGRAMS.chromium))("the dashboard in headless Chromium", () => {
  let browser: Browser;
  let profile: string;
  beforeAll(async () => {
    profile = makeTempDir("btswarm-chromium-");
    browser = await launchChromium(puppeteer!, profile);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (profile) removeDir(profile);
  });

  for (const [name, start, screenshot] of runtimes) {
    test(`${name}: renders, shows a test swarm's numbers, and updates after more announces`, async () => {
      const tracker = await start();
      const problems: string[] = [];
      try {
        const base = tracker.baseUrl;
        // Swarm A: two leechers and a seeder; swarm B: one leecher.
        await announce(base, { infoHash: SWARM_A, peerId: id(1, 1), port: 7001, left: 100, event: "started" });
        await announce(base, { infoHash: SWARM_A, peerId: id(1, 2), port: 7002, left: 100, event: "started" });
        await announce(base, { infoHash: SWARM_A, peerId: id(1, 3), port: 7003, left: 0, event: "started" });
        await announce(base, { infoHash: SWARM_B, peerId: id(2, 1), port: 7004, left: 100, event: "started" });
        expect((await fetch(`${base}/scrape?info_hash=${escapeAll(SWARM_A)}`)).status).toBe(200);

        const page = await browser.newPage();
        page.on("console", (msg) => {
          if (msg.type() === "error" || msg.type() === "warn") problems.push(`console ${msg.type()}: ${msg.text()}`);
        });
        page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
        page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
        page.on("response", (res) => {
          if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
        });
        await page.setViewport({ width: 1100, height: 900 });
        await page.goto(`${base}/?every=1`, { waitUntil: "load", timeout: 30_000 });

        await showing(page, "announces", "4");
        expect(await text(page, "swarms")).toBe("2");
        expect(await text(page, "seeders")).toBe("1");
        expect(await text(page, "leechers")).toBe("3");
        expect(await text(page, "scrapes")).toBe("1");
        expect(await chartTotal(page)).toBe(4);
        expect(await busiestRows(page)).toEqual([
          [`01${"aa".repeat(19)}`, "1", "2"],
          [`02${"bb".repeat(19)}`, "0", "1"],
        ]);
        expect(await text(page, "status")).toMatch(/^updated /);

        // More traffic: the page picks it up on its own.
        await announce(base, { infoHash: SWARM_B, peerId: id(2, 2), port: 7005, left: 0, event: "started" });
        await announce(base, { infoHash: SWARM_B, peerId: id(2, 3), port: 7006, left: 100, event: "started" });
        await announce(base, { infoHash: SWARM_A, peerId: id(1, 1), port: 7001, left: 100, event: "stopped" });
        await showing(page, "announces", "7");
        expect(await text(page, "seeders")).toBe("2");
        expect(await text(page, "leechers")).toBe("3");
        expect(await chartTotal(page)).toBe(7);
        expect((await busiestRows(page)).map((row) => row.slice(1))).toEqual([
          ["1", "2"],
          ["1", "1"],
        ]);
        if (screenshot) {
          mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
          await page.screenshot({ path: screenshot, fullPage: true });
        }
        expect(problems).toEqual([]);
      } finally {
        await tracker.stop();
      }
    }, 120_000);
  }
});
