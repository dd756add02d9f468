// Starting the real tracker entries (Bun's `npm start`, `deno serve`) for UDP tests: each returns once
// it has printed that its UDP socket is bound.
import { resolve } from "node:path";
import { freePort } from "../support/ports.ts";
import { spawnService, type Service } from "../support/processes.ts";
import { denoServe, QUIET_DENO_ENV } from "./servers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const UDP_READY = /tracker UDP at udp:\/\//;

export interface UdpTrackerProcess {
  service: Service;
  host: string;
  /** The HTTP and UDP port (the same number, the default). */
  port: number;
  announceUrl: string;
  stop(): Promise<void>;
}

function udpUrl(host: string, port: number): string {
  return `udp://${host.includes(":") ? `[${host}]` : host}:${port}/announce`;
}

/** `bun edge/adapter/bun.ts` (what `npm start` runs) on `host`, with `env` added. */
export async function startBunTracker(opts: { host: string; env?: Record<string, string>; wrap?: string[] }): Promise<UdpTrackerProcess> {
  const port = freePort();
  const service = await spawnService({
    name: `bun tracker on ${opts.host}`,
    cwd: ROOT,
    cmd: [...(opts.wrap ?? []), process.execPath, "edge/adapter/bun.ts"],
    env: { ...opts.env, HOST: opts.host, PORT: String(port) },
    ready: { line: UDP_READY },
  });
  return { service, host: opts.host, port, announceUrl: udpUrl(opts.host, port), stop: async () => void (await service.stop()) };
}

/** `deno serve` of the Deno entry on `host`, with `env` as its environment. */
export async function startDenoTracker(opts: { host: string; env?: Record<string, string> }): Promise<UdpTrackerProcess> {
  const port = freePort();
  const service = await spawnService({
    name: `deno serve on ${opts.host}`,
    cwd: ROOT,
    cmd: denoServe(opts.host, port),
    env: { ...opts.env, ...QUIET_DENO_ENV },
    ready: { line: UDP_READY },
    readyTimeoutMs: 60_000,
  });
  return { service, host: opts.host, port, announceUrl: udpUrl(opts.host, port), stop: async () => void (await service.stop()) };
}
