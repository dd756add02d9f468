// The daemon's web UI in headless Chromium (Debian's, through puppeteer-core), served by a real
// `btpeer daemon`: sign in with the API token, add a .torrent through the page choosing which files,
// watch it complete from a real btpeer seeder (found through our tracker), open its detail, add a tracker
// and remove it again, pause the torrent, remove it; at desktop and phone widths, with no console error, failed request or CSP violation.
// Screenshots go to test-artifacts/webui-*.png (CI keeps them).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { launchChromium, loadPuppeteer, type Browser, type BrowserPage } from "../support/browser.ts";
import { sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { makeRandomFile, makeTempDir, removeDir, spawnService, type Service } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { infoHashHex, mktorrent } from "../support/torrents.ts";
import { WEB_UI_PATHS } from "../../peer/daemon/webui/routes.ts";
import { type ApiDaemon, requireBinary, startApiDaemon } from "./daemon-api-harness.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const ARTIFACTS = path.join(ROOT, "test-artifacts");
const puppeteer = await loadPuppeteer();

const waitFor = <A extends unknown[]>(page: BrowserPage, fn: (...args: A) => boolean, ...args: A) =>
  page.waitForFunction(fn, { timeout: 120_000, polling: 100 }, ...args);

describe.skipIf(!puppeteer || !needs(PROGRAMS.chromium, PROGRAMS.mktorrent))("the daemon's web UI in headless Chromium", () => {
  let dir: string;
  let browser: Browser;
  let tracker: Service;
  let seeder: Service;
  let daemon: ApiDaemon;
  let saveDir: string;
  let torrentFile: string;
  let infoHash: string;
  let trackerUrl: string;

  beforeAll(async () => {
    dir = makeTempDir("btpeer-webui-");
    const trackerPort = freePort();
    tracker = await spawnService({
      name: "tracker",
      cwd: ROOT,
      cmd: [process.execPath, "edge/adapter/bun.ts"],
      env: { PORT: String(trackerPort), HOST: "127.0.0.1", TRACKER_UDP_PORT: "0", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
      ready: { port: trackerPort },
    });
    const data = path.join(dir, "seed", "album");
    fs.mkdirSync(data, { recursive: true });
    makeRandomFile(path.join(data, "one.bin"), 3_000_000, 11);
    makeRandomFile(path.join(data, "two.bin"), 2_000_000, 12);
    trackerUrl = `http://127.0.0.1:${trackerPort}/announce`;
    torrentFile = mktorrent({ source: data, out: path.join(dir, "album.torrent"), trackers: [trackerUrl] });
    infoHash = infoHashHex(torrentFile);
    const seedPort = freePort();
    seeder = await spawnService({
      name: "btpeer seed",
      cmd: [process.execPath, path.join(ROOT, "peer/cli.ts"), "seed", torrentFile, "--dir", path.join(dir, "seed"), "--port", String(seedPort), "--json"],
      ready: { line: /"event":"started"/ },
    });
    requireBinary();
    daemon = await startApiDaemon();
    saveDir = path.join(dir, "saved");
    browser = await launchChromium(puppeteer!, path.join(dir, "chromium"));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await seeder?.stop();
    await tracker?.stop();
    if (dir) removeDir(dir);
  });

  test("sign in, add a torrent with one file skipped, watch it complete, add a tracker and remove it, pause and remove the torrent", async () => {
    const problems: string[] = [];
    const page = await browser.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warn") problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("requestfailed", (req) => {
      // The events stream is cut when the page goes away; nothing else may fail.
      if (!req.url().endsWith("/api/v1/events")) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
    });
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
    });
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`${daemon.api}/`, { waitUntil: "load", timeout: 30_000 });

    // Signed out: the login form, nothing else.
    await waitFor(page, () => !document.getElementById("login")!.hidden);
    await page.type("#token", daemon.token);
    await page.click("#login-form button[type=submit]");
    await waitFor(page, () => !document.getElementById("app")!.hidden);

    // Add through the page: the .torrent, its second file unchecked.
    const input = await page.$("#add-file");
    await input!.uploadFile(torrentFile);
    await waitFor(page, () => document.querySelectorAll("#add-files input[type=checkbox]").length === 2);
    await page.click('#add-files input[data-index="1"]');
    await page.type("#add-path", saveDir);
    await page.click("#add-form button[type=submit]");

    // It appears, and completes from the seeder; the row says so without a reload.
    await waitFor(page, (h: string) => document.querySelector(`tr[data-hash="${h}"]`) !== null, infoHash);
    await waitFor(page, (h: string) => document.querySelector(`tr[data-hash="${h}"]`)?.getAttribute("data-state") === "seeding", infoHash);
    const progress = await page.evaluate(
      (h: string) => document.querySelector(`tr[data-hash="${h}"] td[data-progress]`)!.getAttribute("data-progress"),
      infoHash,
    );
    expect(Number(progress)).toBe(1);
    const downloaded = path.join(saveDir, "album");
    expect(await sha256File(path.join(downloaded, "one.bin"))).toBe(await sha256File(path.join(dir, "seed", "album", "one.bin")));
    expect(fs.existsSync(path.join(downloaded, "two.bin"))).toBe(false);

    // The header counts it; the detail shows the files with the skipped one, and the piece map.
    await waitFor(page, () => document.getElementById("t-torrents")!.textContent === "1");
    await page.click(`tr[data-hash="${infoHash}"] td.name`);
    await waitFor(page, () => document.querySelectorAll("#detail-body select[data-file]").length === 2);
    const priorities = await page.evaluate(() => [...document.querySelectorAll<HTMLSelectElement>("#detail-body select[data-file]")].map((s) => s.value));
    expect(priorities).toEqual(["normal", "skip"]);
    await page.click('#detail nav button[data-tab="pieces"]');
    await waitFor(page, () => document.querySelectorAll("#pieces rect").length > 0);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "webui.png"), fullPage: true });
    await page.setViewport({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, "webui-phone.png"), fullPage: true });
    // At phone width the table keeps its essential columns and no horizontal scrolling is needed.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewport({ width: 1200, height: 900 });

    // The trackers tab: add one (typed while the detail refreshes), then remove it; the API agrees.
    await page.click('#detail nav button[data-tab="trackers"]');
    await waitFor(page, () => document.querySelectorAll("#detail-body button[data-tracker]").length === 1);
    const extra = `http://127.0.0.1:${freePort()}/extra/announce`;
    await page.type("#tracker-url", extra);
    await page.click("#tracker-form button[type=submit]");
    await waitFor(page, (url: string) => document.querySelector(`#detail-body button[data-tracker="${url}"]`) !== null, extra);
    const trackerUrls = async () => {
      const reply = await fetch(`${daemon.api}/api/v1/torrents/${infoHash}`, { headers: { authorization: `Bearer ${daemon.token}` } });
      return ((await reply.json()) as { trackers: { url: string }[] }).trackers.map((t) => t.url);
    };
    expect(await trackerUrls()).toEqual([trackerUrl, extra]);
    await page.click(`#detail-body button[data-tracker="${extra}"]`);
    await waitFor(page, (url: string) => document.querySelector(`#detail-body button[data-tracker="${url}"]`) === null, extra);
    expect(await trackerUrls()).toEqual([trackerUrl]);

    // Pause, then remove without its data.
    await page.click(`tr[data-hash="${infoHash}"] button[data-action="pause"]`);
    await waitFor(page, (h: string) => document.querySelector(`tr[data-hash="${h}"]`)?.getAttribute("data-state") === "paused", infoHash);
    await page.click(`tr[data-hash="${infoHash}"] button[data-action="remove"]`);
    await waitFor(page, () => (document.getElementById("remove-dialog") as HTMLDialogElement).open);
    await page.click("#remove-confirm");
    await waitFor(page, (h: string) => document.querySelector(`tr[data-hash="${h}"]`) === null, infoHash);
    expect(fs.existsSync(path.join(downloaded, "one.bin"))).toBe(true);
    const list = await fetch(`${daemon.api}/api/v1/torrents`, { headers: { authorization: `Bearer ${daemon.token}` } });
    expect(await list.json()).toEqual([]);

    expect(problems).toEqual([]);
  }, 400_000);

  test("a wrong token keeps the page on the login form with a message", async () => {
    const page = await browser.newPage();
    await page.goto(`${daemon.api}/`, { waitUntil: "load", timeout: 30_000 });
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${daemon.api}/`, { waitUntil: "load", timeout: 30_000 });
    await page.type("#token", "not-the-token");
    await page.click("#login-form button[type=submit]");
    await waitFor(page, () => (document.getElementById("login-error")!.textContent ?? "").length > 0);
    expect(await page.evaluate(() => document.getElementById("app")!.hidden)).toBe(true);
  }, 60_000);

  test("the page and its assets carry a strict Content-Security-Policy and need no token", async () => {
    expect(WEB_UI_PATHS.has("/webui/main.js")).toBe(true);
    for (const asset of WEB_UI_PATHS) {
      const res = await fetch(`${daemon.api}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
  });
});
