// What every route handler shares: the options, store access that turns outages into one error.
import type { Context } from "hono";
import { encode } from "../../shared/bencode.ts";
import type { TrackerConfig } from "../config.ts";
import { STORE_UNAVAILABLE_MESSAGE, TrackerError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { InstanceCounters } from "../metrics/instance-counters.ts";
import type { StoreOutageLog } from "../store-outage.ts";
import type { SwarmStore } from "../store/swarm-store.ts";

/**
 * The client's address from the request and what the server passed with it (Hono's `env`), without a
 * Hono context: the same reading as a `clientIp` built on it, for the paths that skip Hono.
 */
export type RequestIp = (request: Request, env: unknown) => string | undefined;

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
    throw storeFailure(t, what, cause);
  }
  t.outage.succeeded();
  return result;
}

/** callStore for an operation that answers at once (SwarmStore.announceNow): the same failures, no promise. */
export function callStoreNow<T>(t: Pick<TrackerContext, "outage" | "counters">, what: string, op: () => T): T {
  let result: T;
  try {
    result = op();
  } catch (cause) {
    throw storeFailure(t, what, cause);
  }
  t.outage.succeeded();
  return result;
}

/** What a failed store operation is answered with; an outage is logged and counted. */
export function storeFailure(t: Pick<TrackerContext, "outage" | "counters">, what: string, cause: unknown): TrackerError {
  if (cause instanceof TrackerError) return cause;
  t.outage.failed(what, cause);
  t.counters.storeFailed(cause);
  return new TrackerError("store-unavailable", STORE_UNAVAILABLE_MESSAGE);
}

/** The headers of every successful bencoded reply, built once (a Response copies them, so sharing is safe). */
const BENCODE_HEADERS = new Headers({ "Content-Type": "text/plain; charset=binary", "Cache-Control": "no-store" });
const BENCODE_INIT: ResponseInit = { headers: BENCODE_HEADERS };

/**
 * A 200 bencoded reply built straight as a Response, for the success paths, where the context has
 * no header of its own to add: Hono's c.header/c.body build a Headers object step by step, a
 * measurable share of an announce; copying a ready one costs about half of that.
 */
export function bencodeOk(body: Uint8Array): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, BENCODE_INIT);
}

export function bencodeReply(c: Context, body: Uint8Array, status: 200 | 400 | 403 | 404 | 405 | 414 | 500 | 503): Response {
  c.header("Content-Type", "text/plain; charset=binary");
  c.header("Cache-Control", "no-store");
  return c.body(body as Uint8Array<ArrayBuffer>, status);
}

/** Refuses a query (of `length` characters) longer than the configured limit (every path checks this first). */
export function checkQuerySize(length: number, config: TrackerConfig): void {
  if (length > config.maxQueryBytes) {
    throw new TrackerError("query-too-long", `query is ${length} bytes; the limit is ${config.maxQueryBytes}`);
  }
}

/**
 * The TrackerError a failure is answered with, counted. Anything else is a bug: logged by name and
 * message only (a stack is for debugging, and the request's query, with peer ids, is never logged),
 * and answered as "internal".
 */
export function trackerFailure(err: unknown, log: Logger, counters: InstanceCounters): TrackerError {
  let failure: TrackerError;
  if (err instanceof TrackerError) failure = err;
  else {
    log.error(`bug: ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err}`);
    if (err instanceof Error && err.stack) log.debug(err.stack);
    failure = new TrackerError("internal", "internal tracker error");
  }
  counters.failed(failure.code);
  return failure;
}

/** The bencoded body every failure is answered with. */
export function failureBody(failure: TrackerError): Uint8Array {
  return encode({ "failure reason": failure.message });
}
