// What every route handler shares: the options, store access that turns outages into one error.
import type { Context } from "hono";
import type { TrackerConfig } from "../config.ts";
import { STORE_UNAVAILABLE_MESSAGE, TrackerError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { InstanceCounters } from "../metrics/instance-counters.ts";
import type { StoreOutageLog } from "../store-outage.ts";
import type { SwarmStore } from "../store/swarm-store.ts";

export interface TrackerContext {
  config: TrackerConfig;
  clientIp: (c: Context) => string | undefined;
  warning: string | undefined;
  /** The store, or a TrackerError when the deployment has none configured. */
  requireStore(): SwarmStore;
  log: Logger;
  outage: StoreOutageLog;
  /** This instance's own counters (failures, store errors), for /metrics. */
  counters: InstanceCounters;
}

/**
 * Runs one store operation (`what`, for the log). Any failure of the backend (StoreUnavailableError,
 * a network error, a Redis error reply) becomes "temporarily unavailable" for the client; the outage
 * log counts it, and says once when the store fails and once when it is back.
 */
export async function callStore<T>(t: Pick<TrackerContext, "outage" | "counters">, what: string, op: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await op();
  } catch (cause) {
    if (cause instanceof TrackerError) throw cause;
    t.outage.failed(what, cause);
    t.counters.storeFailed(cause);
    throw new TrackerError("store-unavailable", STORE_UNAVAILABLE_MESSAGE);
  }
  t.outage.succeeded();
  return result;
}

/** The headers of every successful bencoded reply, built once (a Response copies them, so sharing is safe). */
const BENCODE_HEADERS = new Headers({ "Content-Type": "text/plain; charset=binary", "Cache-Control": "no-store" });

/**
 * A 200 bencoded reply built straight as a Response, for the success paths, where the context has
 * no header of its own to add: Hono's c.header/c.body build a Headers object step by step, a
 * measurable share of an announce; copying a ready one costs about half of that.
 */
export function bencodeOk(body: Uint8Array): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, { headers: BENCODE_HEADERS });
}

export function bencodeReply(c: Context, body: Uint8Array, status: 200 | 400 | 403 | 404 | 405 | 414 | 500 | 503): Response {
  c.header("Content-Type", "text/plain; charset=binary");
  c.header("Cache-Control", "no-store");
  return c.body(body as Uint8Array<ArrayBuffer>, status);
}
