// The wiring every runtime entry shares: environment variables -> configuration + swarm store -> app.
// Web-standard only; the entry files in adapter/ add just the runtime's way to serve and to read the
// client address.
import type { Context, Hono } from "hono";
import { createApp } from "./app.ts";
import { fromHex } from "../shared/bytes.ts";
import { ConfigError, DEFAULT_CONFIG, loadConfig, type TrackerConfig } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";
import { InstanceCounters } from "./metrics/instance-counters.ts";
import { trackerCore } from "./announce-core.ts";
import { MemorySwarmStore } from "./store/memory.ts";
import type { RequestIp } from "./routes/common.ts";
import type { SwarmStore } from "./store/swarm-store.ts";
import { ConnectionIds } from "./udp/connection-id.ts";
import { UdpTracker } from "./udp/udp-tracker.ts";
import { upstashStoreFromEnv } from "./store/upstash.ts";

export type StoreKind = "upstash" | "memory" | "none";

export interface TrackerSetup {
  app: Hono;
  config: TrackerConfig;
  store: SwarmStore | null;
  storeKind: StoreKind;
  log: Logger;
  /** This process's own counters, shared by its HTTP app and its UDP tracker. */
  counters: InstanceCounters;
}

export interface SetupOptions {
  clientIp: (c: Context) => string | undefined;
  /** The same without a Hono context, where the runtime allows (see AppOptions.requestIp). */
  requestIp?: RequestIp;
  /**
   * What to do without Upstash credentials: "memory" keeps swarms in this process (Bun, Deno: one
   * long-lived process), "none" refuses announces (Workers: each isolate would hold its own swarm).
   */
  withoutUpstash: "memory" | "none";
}

export const UPSTASH_URL_VAR = "UPSTASH_REDIS_REST_URL";
export const UPSTASH_TOKEN_VAR = "UPSTASH_REDIS_REST_TOKEN";

/** Throws ConfigError on a bad variable. */
export function setupTracker(env: Record<string, string | undefined>, opts: SetupOptions): TrackerSetup {
  const config = loadConfig(env);
  const url = env[UPSTASH_URL_VAR]?.trim() ?? "";
  const token = env[UPSTASH_TOKEN_VAR]?.trim() ?? "";
  if ((url === "") !== (token === "")) {
    throw new ConfigError(`set both ${UPSTASH_URL_VAR} and ${UPSTASH_TOKEN_VAR}, or neither (only one is set)`);
  }
  let store: SwarmStore | null = null;
  let storeKind: StoreKind = "none";
  if (url !== "") {
    if (!/^https?:\/\//.test(url)) throw new ConfigError(`${UPSTASH_URL_VAR} must be an http(s) URL, got "${url}"`);
    store = upstashStoreFromEnv({ [UPSTASH_URL_VAR]: url, [UPSTASH_TOKEN_VAR]: token });
    storeKind = "upstash";
  } else if (opts.withoutUpstash === "memory") {
    store = new MemorySwarmStore({ maxSwarms: config.maxSwarms, maxPeers: config.maxPeers });
    storeKind = "memory";
  }
  const log = createLogger(config.logLevel);
  const counters = new InstanceCounters();
  const app = createApp({ store, config, clientIp: opts.clientIp, requestIp: opts.requestIp, log, counters });
  return { app, config, store, storeKind, log, counters };
}

/**
 * The UDP tracker over the same store and configuration as the app, and the port it should listen on
 * (`httpPort` unless TRACKER_UDP_PORT says otherwise); null when TRACKER_UDP_PORT is 0. Bun and Deno
 * only: Workers cannot receive UDP.
 */
export function setupUdpTracker(setup: TrackerSetup, httpPort: number): { tracker: UdpTracker; port: number } | null {
  const { config, store } = setup;
  const port = config.udpPort === "http-port" ? httpPort : config.udpPort;
  if (port === 0) return null;
  const connectionIds = config.udpKey === "" ? ConnectionIds.withRandomKey() : new ConnectionIds(fromHex(config.udpKey)!);
  // Its own outage log: UDP and HTTP requests each report a store outage once.
  const core = trackerCore(config, store, setup.log, setup.counters);
  return { tracker: new UdpTracker({ core, connectionIds }), port };
}

/**
 * For runtimes that read the environment per request (Workers): a broken configuration still gets an
 * app, which refuses every announce with the configuration problem as the failure reason.
 */
export function setupTrackerOrExplain(env: Record<string, string | undefined>, opts: SetupOptions): TrackerSetup {
  try {
    return setupTracker(env, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const log = createLogger(DEFAULT_CONFIG.logLevel);
    const counters = new InstanceCounters();
    const app = createApp({
      store: null,
      config: DEFAULT_CONFIG,
      clientIp: opts.clientIp,
      unavailableReason: `tracker misconfigured: ${err.message}`,
      log,
      counters,
    });
    return { app, config: DEFAULT_CONFIG, store: null, storeKind: "none", log, counters };
  }
}

/** Only the string-valued bindings (Workers env also holds secrets as strings, and other bindings as objects). */
export function stringVars(env: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (env && typeof env === "object") for (const [k, v] of Object.entries(env)) if (typeof v === "string") out[k] = v;
  return out;
}
