// Our tracker (edge/adapter/bun.ts) in its own process on loopback, memory store, for the daemon benches'
// torrents to name (--side-tracker): its memory and CPU are not the daemon's.
import path from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";

export interface LoopbackTracker {
  service: Service;
  announce: string;
}

/** Starts it with `intervalS` between announces (no random spread: every daemon gets the same). */
export async function startLoopbackTracker(intervalS: number): Promise<LoopbackTracker> {
  const port = freePort();
  const service = await spawnService({
    name: "tracker",
    cmd: [process.execPath, path.resolve(import.meta.dir, "../../edge/adapter/bun.ts")],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      TRACKER_INTERVAL: String(intervalS),
      TRACKER_INTERVAL_SPREAD: "0",
      TRACKER_UDP_PORT: "0",
      UPSTASH_REDIS_REST_URL: undefined,
      UPSTASH_REDIS_REST_TOKEN: undefined,
    },
    ready: { port },
  });
  return { service, announce: `http://127.0.0.1:${port}/announce` };
}
