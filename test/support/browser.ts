// Headless Chromium for tests: Debian's /usr/bin/chromium driven by puppeteer-core, which never
// downloads a browser. puppeteer-core is a devDependency loaded on demand: a checkout whose
// node_modules predates it skips (fails under CI) with the command that installs it, and the type
// check does not depend on it (only the few calls used here are typed).
import { test } from "bun:test";

export const CHROMIUM = "/usr/bin/chromium";

export interface BrowserPage {
  goto(url: string, opts?: { waitUntil?: string; timeout?: number }): Promise<unknown>;
  on(event: "console", handler: (msg: { type(): string; text(): string }) => void): void;
  on(event: "pageerror", handler: (err: Error) => void): void;
  on(event: "response", handler: (res: { status(): number; url(): string }) => void): void;
  on(event: "requestfailed", handler: (req: { url(): string; failure(): { errorText: string } | null }) => void): void;
  waitForFunction<A extends unknown[]>(fn: (...args: A) => boolean, opts: { timeout: number; polling?: number }, ...args: A): Promise<unknown>;
  evaluate<T, A extends unknown[]>(fn: (...args: A) => T, ...args: A): Promise<T>;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
  setViewport(v: { width: number; height: number }): Promise<void>;
  type(selector: string, text: string): Promise<void>;
  click(selector: string): Promise<void>;
  $(selector: string): Promise<{ uploadFile(...paths: string[]): Promise<void> } | null>;
  close(): Promise<void>;
}

export interface Browser {
  newPage(): Promise<BrowserPage>;
  close(): Promise<void>;
}

interface Puppeteer {
  launch(opts: Record<string, unknown>): Promise<Browser>;
}

const IN_CI = process.env.CI === "true" || process.env.CI === "1";
const MODULE = "puppeteer-core";

/** puppeteer-core, or null after registering the skip (or, under CI, a failing test) that says why. */
export async function loadPuppeteer(): Promise<Puppeteer | null> {
  try {
    const mod = (await import(MODULE)) as { default: Puppeteer };
    return mod.default;
  } catch {
    const how = "npm install (puppeteer-core is a devDependency)";
    if (IN_CI) {
      test("puppeteer-core is installed (CI must not skip)", () => {
        throw new Error(`puppeteer-core cannot be loaded; ${how}`);
      });
    } else {
      test.skip(`needs puppeteer-core: ${how}`, () => {});
      console.warn(`skipping browser tests: ${how}`);
    }
    return null;
  }
}

/** Headless Chromium with its own profile directory; `--no-sandbox` because tests run as root. */
export function launchChromium(puppeteer: Puppeteer, userDataDir: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
    ],
  });
}
