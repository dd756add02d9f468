// How `btpeer daemon` shows itself: --json, one JSON object per line (every torrent's events tagged with
// its infoHash, plus the daemon's own: daemon-started, api-token, watch, log, daemon-stopped); otherwise
// a few plain lines (torrents starting, completing, failing; the watch folder) and, on a terminal, a live
// status line over all torrents.
import type { DaemonEvent, DaemonStats } from "../daemon/control.ts";
import type { WatchOutcome } from "../daemon/watch-folder.ts";
import { formatBytes } from "./progress.ts";

interface DaemonView {
  readonly port: number;
  stats(): DaemonStats;
}

export interface DaemonReporter {
  /** `api`: the HTTP API's URL. */
  started(daemon: DaemonView, stateDir: string, downloadDir: string, watch: string | null, api: string): void;
  event(event: DaemonEvent, daemon: DaemonView): void;
  watch(outcome: WatchOutcome): void;
  token(token: string, file: string): void;
  log(line: string): void;
  /** Prints the message; returns `code` (the exit code). */
  fatal(message: string, code: number): number;
  tick(daemon: DaemonView): void;
  stopped(): void;
}

export function daemonReporter(json: boolean, isTTY = Boolean(process.stdout.isTTY)): DaemonReporter {
  return json ? jsonDaemonReporter() : humanDaemonReporter(isTTY);
}

function jsonDaemonReporter(): DaemonReporter {
  const write = (value: object) => process.stdout.write(`${JSON.stringify({ ...value, time: Date.now() })}\n`);
  return {
    started: (daemon, stateDir, downloadDir, watch, api) => {
      const stats = daemon.stats();
      write({ event: "daemon-started", port: daemon.port, api, stateDir, downloadDir, watch, torrents: stats.torrents, limits: stats.limits });
    },
    event: (event) => {
      // An idle torrent's once-a-second progress says nothing new; a daemon may hold thousands of them.
      if (event.event === "progress" && event.peers === 0 && event.downRate === 0 && event.upRate === 0) return;
      write(event);
    },
    watch: (outcome) => write({ event: "watch", ...outcome }),
    token: (token, file) => write({ event: "api-token", token, path: file }),
    log: (message) => write({ event: "log", message }),
    fatal: (message, code) => {
      write({ event: "error", message });
      console.error(`btpeer daemon: ${message}`);
      return code;
    },
    tick: () => {},
    stopped: () => write({ event: "daemon-stopped" }),
  };
}

function humanDaemonReporter(isTTY: boolean): DaemonReporter {
  let lineOpen = false;
  const names = new Map<string, string>();
  const line = (text: string, stream: "out" | "err" = "out") => {
    if (lineOpen) process.stdout.write("\r\x1b[2K");
    lineOpen = false;
    if (stream === "err") console.error(text);
    else console.log(text);
  };
  const nameOf = (infoHash: string) => names.get(infoHash) ?? infoHash.slice(0, 8);
  return {
    started: (daemon, stateDir, downloadDir, watch, api) =>
      line(
        `btpeer daemon: ${daemon.stats().torrents} torrents on port ${daemon.port}; API on ${api}; state in ${stateDir}; saving to ${downloadDir}` +
          (watch ? `; watching ${watch}` : ""),
      ),
    event: (e) => {
      switch (e.event) {
        case "started":
          names.set(e.infoHash, e.name);
          return line(`${e.name}: ${e.have} of ${e.pieces} pieces on disk (${e.checked} hashed)`);
        case "completed":
          return e.fetchedPieces > 0 ? line(`${nameOf(e.infoHash)}: complete`) : undefined;
        case "error":
          return line(`${nameOf(e.infoHash)}: ${e.message}`, "err");
        case "piece-failed":
          return line(`${nameOf(e.infoHash)}: piece ${e.index} failed its hash check; fetching it again`);
        case "peer-banned":
          return line(`${nameOf(e.infoHash)}: banned ${e.peer}: ${e.reason}`);
        default:
          return;
      }
    },
    watch: (o) => line(o.result === "added" ? `watch: added ${o.file}` : `watch: ${o.file}: ${o.reason}${o.result === "invalid" ? " (renamed .invalid)" : ""}`),
    token: (token, file) => line(`API token (shown this once; kept in ${file}): ${token}`),
    log: (text) => line(`btpeer daemon: ${text}`, "err"),
    fatal: (message, code) => {
      line(`btpeer daemon: ${message}`, "err");
      return code;
    },
    tick: (daemon) => {
      if (!isTTY) return;
      const s = daemon.stats();
      const by = s.byState;
      const text =
        `${s.torrents} torrents: ${by.downloading ?? 0} downloading, ${by.seeding ?? 0} seeding, ${by.paused ?? 0} paused` +
        `${by.checking ? `, ${by.checking} checking` : ""}${by.error ? `, ${by.error} failed` : ""}  ` +
        `↓ ${formatBytes(s.downloadRate)}/s  ↑ ${formatBytes(s.uploadRate)}/s  peers ${s.peers}`;
      process.stdout.write(`\r\x1b[2K${text}`);
      lineOpen = true;
    },
    stopped: () => line("btpeer daemon: stopped"),
  };
}
