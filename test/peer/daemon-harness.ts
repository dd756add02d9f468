// Helpers for the daemon's end-to-end tests: a real `dist/btpeer daemon --json` process whose events we
// follow, and torrents dropped into its watch folder (how these tests add torrents until the API lands).
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../support/ports.ts";
import { spawnService, type Service } from "../support/processes.ts";
import { ROOT } from "./btpeer-harness.ts";
import { jsonLines, waitForJson } from "../support/json-lines.ts";

/** The compiled binary: `npm test` builds it before the tests run (`npm run build` alone does too). */
export const DIST = path.join(ROOT, "dist", "btpeer");

export interface DaemonEvent {
  event: string;
  infoHash?: string;
  [field: string]: unknown;
}

export interface DaemonProcess {
  service: Service;
  port: number;
  /** The HTTP API's URL as daemon-started gives it (bound to any free port unless `extra` names one). */
  api: string;
  stateDir: string;
  downloadDir: string;
  watchDir: string;
  events(): DaemonEvent[];
  /** The first event (past or future) matching. */
  waitFor(predicate: (e: DaemonEvent) => boolean, timeoutMs?: number): Promise<DaemonEvent>;
  /** Copies a .torrent into the watch folder (written under another name first, then renamed in). */
  drop(torrentFile: string, as?: string): void;
  stop(): Promise<number>;
  /** SIGKILL: no `stopped`, no last flush. */
  kill(): Promise<number>;
}

export interface DaemonOptions {
  stateDir: string;
  downloadDir: string;
  watchDir: string;
  port?: number;
  extra?: string[];
  name?: string;
}

/** Starts `dist/btpeer daemon --json` and waits for `daemon-started`. */
export async function startDaemon(options: DaemonOptions): Promise<DaemonProcess> {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
  const port = options.port ?? freePort();
  fs.mkdirSync(options.watchDir, { recursive: true });
  const service = await spawnService({
    name: options.name ?? "btpeer daemon",
    cmd: [
      DIST,
      "daemon",
      "--json",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--state-dir",
      options.stateDir,
      "--download-dir",
      options.downloadDir,
      "--watch",
      options.watchDir,
      // Any free port: a fixed one (the default 9080) would collide between daemons and test runs.
      "--api",
      "127.0.0.1:0",
      ...(options.extra ?? []),
    ],
    ready: { line: /"event":"daemon-started"/ },
    readyTimeoutMs: 60_000,
    graceMs: 15_000,
  });
  const events = () => jsonLines<DaemonEvent>(service);
  let dropped = 0;
  const started = events().find((e) => e.event === "daemon-started")!;
  return {
    service,
    port,
    api: String(started.api),
    stateDir: options.stateDir,
    downloadDir: options.downloadDir,
    watchDir: options.watchDir,
    events,
    waitFor: (predicate, timeoutMs = 120_000) => waitForJson(service, predicate, timeoutMs),
    drop(torrentFile, as) {
      const name = as ?? path.basename(torrentFile);
      const temp = path.join(options.watchDir, `.incoming-${dropped++}`);
      fs.copyFileSync(torrentFile, temp);
      fs.renameSync(temp, path.join(options.watchDir, name));
    },
    stop: () => service.stop(),
    async kill() {
      process.kill(service.pid, "SIGKILL");
      return service.exited;
    },
  };
}

/** A predicate for a torrent's event of one kind. */
export const torrentEvent = (kind: string, infoHash: string) => (e: DaemonEvent) => e.event === kind && e.infoHash === infoHash;
