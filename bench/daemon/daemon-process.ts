// What bench:daemon's parts share about the processes they run: the --json events they print, the
// daemon's command line, and what /proc says of a process (RSS, open descriptors).
import fs from "node:fs";
import type { Service } from "../../test/support/processes.ts";
import { jsonLine, waitForJson } from "../../test/support/json-lines.ts";

export interface DaemonEvent {
  event: string;
  time: number;
  [key: string]: unknown;
}

/** A --json event line, or undefined for any other line. */
export const parseEvent = (line: string) => jsonLine<DaemonEvent>(line);

/** The first --json event of `kind` the process prints. */
export async function eventOf(service: Service, kind: string, timeoutMs = 600_000): Promise<DaemonEvent> {
  return waitForJson<DaemonEvent>(service, (e) => e.event === kind, timeoutMs);
}

/** A figure of /proc/<pid>/status, in bytes. */
export function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

export const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

export function daemonCmd(o: { btpeer: string }, stateDir: string, downloadDir: string, port: number, watch?: string): string[] {
  // No DHT: the bench talks to nothing off this machine (and its torrents are not meant for the world).
  const cmd = [
    o.btpeer,
    "daemon",
    "--json",
    "--no-dht",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--api",
    "127.0.0.1:0",
    "--state-dir",
    stateDir,
    "--download-dir",
    downloadDir,
  ];
  if (watch) cmd.push("--watch", watch);
  return cmd;
}
