// The web UI's settings in headless Chromium against a real `btpeer daemon`: the two announce checkboxes
// show what GET /api/v1/settings says, a click is saved (the API then answers with it) and outlives a
// restart of the daemon, and a refusal by the API is shown on the page with the box back as the daemon
// has it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { launchChromium, loadPuppeteer, type Browser, type BrowserPage } from "../support/browser.ts";
import { makeTempDir, removeDir } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { type ApiDaemon, requireBinary, startApiDaemon } from "./daemon-api-harness.ts";

const puppeteer = await loadPuppeteer();

const waitFor = <A extends unknown[]>(page: BrowserPage, fn: (...args: A) => boolean, ...args: A) =>
  page.waitForFunction(fn, { timeout: 60_000, polling: 100 }, ...args);

interface Boxes {
  tiers: boolean;
  trackers: boolean;
}

/** The two boxes once they are enabled (the daemon's values are in). */
async function boxes(page: BrowserPage): Promise<Boxes> {
  await waitFor(page, () => !document.querySelector<HTMLInputElement>("#setting-all-tiers")!.disabled);
  return page.evaluate(() => ({
    tiers: document.querySelector<HTMLInputElement>("#setting-all-tiers")!.checked,
    trackers: document.querySelector<HTMLInputElement>("#setting-all-trackers")!.checked,
  }));
}

describe.skipIf(!puppeteer || !needs(PROGRAMS.chromium))("the daemon's settings in the web UI", () => {
  let dir: string;
  let browser: Browser;
  let daemon: ApiDaemon;

  beforeAll(async () => {
    dir = makeTempDir("btpeer-webui-settings-");
    requireBinary();
    daemon = await startApiDaemon();
    browser = await launchChromium(puppeteer!, path.join(dir, "chromium"));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  /** A fresh page on the daemon's current address, signed in (the origin may remember the token already). */
  async function signedIn(problems: string[]): Promise<BrowserPage> {
    const page = await browser.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warn") problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${daemon.api}/`, { waitUntil: "load", timeout: 30_000 });
    await waitFor(page, () => !document.getElementById("login")!.hidden || !document.getElementById("app")!.hidden);
    if (await page.evaluate(() => document.getElementById("app")!.hidden)) {
      await page.type("#token", daemon.token);
      await page.click("#login-form button[type=submit]");
      await waitFor(page, () => !document.getElementById("app")!.hidden);
    }
    return page;
  }
  const apiSettings = () => daemon.json("GET", "/api/v1/settings", 200);

  test("the boxes show the daemon's settings; a click saves it; it outlives a restart", async () => {
    const problems: string[] = [];
    // Set through the API before the page opens: the boxes must show these, not the defaults.
    await daemon.json("PATCH", "/api/v1/settings", 200, { body: JSON.stringify({ announceToAllTiers: false }) });
    let page = await signedIn(problems);
    expect(await boxes(page)).toEqual({ tiers: false, trackers: false });

    await page.click("#setting-all-trackers");
    await waitFor(page, () => !document.querySelector<HTMLInputElement>("#setting-all-trackers")!.disabled);
    expect(await boxes(page)).toEqual({ tiers: false, trackers: true });
    expect(await apiSettings()).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });

    await page.click("#setting-all-tiers");
    await waitFor(page, () => !document.querySelector<HTMLInputElement>("#setting-all-tiers")!.disabled);
    expect(await apiSettings()).toEqual({ announceToAllTiers: true, announceToAllTrackers: true });
    await page.click("#setting-all-tiers");
    await waitFor(page, () => !document.querySelector<HTMLInputElement>("#setting-all-tiers")!.disabled);
    expect(await apiSettings()).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });
    expect(await page.evaluate(() => document.getElementById("settings-error")!.textContent)).toBe("");

    // The daemon comes back on another port: a new origin, so sign in again there. The old page goes
    // first, so that its cut event stream and refused polls are not counted.
    await page.close();
    daemon = await daemon.restart();
    expect(await apiSettings()).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });
    page = await signedIn(problems);
    expect(await boxes(page)).toEqual({ tiers: false, trackers: true });
    expect(problems).toEqual([]);
  }, 180_000);

  test("a change the API refuses: its message on the page, the box back unchecked", async () => {
    const page = await signedIn([]);
    // The first test left all tiers off: the box is unchecked, and a click checks it.
    expect(await boxes(page)).toEqual({ tiers: false, trackers: true });
    const stored = await apiSettings();
    // The page sends the setting its box names; one the daemon does not know stands for a refused change.
    await page.evaluate(() => document.querySelector("#setting-all-tiers")!.setAttribute("data-setting", "announceToNobody"));
    await page.click("#setting-all-tiers");
    await waitFor(page, () => (document.getElementById("settings-error")!.textContent ?? "").length > 0);
    expect(await page.evaluate(() => document.getElementById("settings-error")!.textContent)).toContain("announceToNobody is not a setting");
    expect(await apiSettings()).toEqual(stored);
    // Reloaded from the daemon, which has no such setting on: unchecked again, as the daemon keeps it.
    expect(await boxes(page)).toEqual({ tiers: false, trackers: true });
  }, 120_000);
});
