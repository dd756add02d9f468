// The tracker as a Hono app on Web-standard APIs. Runtime entry files (adapter/) give it a store,
// a configuration and a way to read the client address. Every failure ends in errorResponse: the
// one place that writes a bencoded `failure reason`.
import { Hono, type Context } from "hono";
import type { TrackerConfig } from "./config.ts";
import { TrackerError } from "./errors.ts";
import { createLogger, type Logger } from "./log.ts";
import { InstanceCounters } from "./metrics/instance-counters.ts";
import { RawQuery, rawSearch } from "./query.ts";
import { HostCheck, requestPath } from "./request-url.ts";
import { createAdminApp } from "./routes/admin/routes.ts";
import { handleAnnounce } from "./routes/announce.ts";
import { isPlainAnnounce, plainAnnounce, plainAnnounceBody } from "./routes/plain-announce.ts";
import { bencodeReply, checkQuerySize, failureBody, trackerFailure, type RequestIp, type TrackerContext } from "./routes/common.ts";
import { handleScrape } from "./routes/scrape.ts";
import { handleDashboardAsset, handleDashboardData, handleDashboardPage } from "./routes/dashboard.ts";
import { handleMetrics } from "./routes/metrics.ts";
import { handleHealth, handleStats } from "./routes/stats.ts";
import { StoreOutageLog } from "./store-outage.ts";
import type { SwarmStore } from "./store/swarm-store.ts";

export interface AppOptions {
  /** null = this deployment has no store configured: announces are refused with a clear reason. */
  store: SwarmStore | null;
  config: TrackerConfig;
  /** The connection's remote address, from the runtime's getConnInfo. */
  clientIp: (c: Context) => string | undefined;
  /**
   * The same address read without a Hono context. Given, a plain `GET /announce` skips Hono's routing
   * and context (routes/plain-announce.ts): on Bun a measurable share of an announce's CPU time.
   */
  requestIp?: RequestIp;
  /** Sent as `warning message` with every announce. */
  warning?: string;
  /** Why there is no store, when `store` is null (the failure reason every announce gets). */
  unavailableReason?: string;
  /** Default: stderr at the configured level. */
  log?: Logger;
  /** This instance's own counters; shared with the UDP tracker of the same process. Default: new ones. */
  counters?: InstanceCounters;
}

/** BitTorrent clients only read the body of a 200 reply, so tracker paths answer failures with 200. */
const NOT_CONFIGURED = "tracker not configured: no swarm store. The operator must set the UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN secrets";

/** BitTorrent's paths, also under a passkey (`/<passkey>/announce`): failures there are answered with 200. */
const TRACKER_PATH = /^(?:\/[^/]+)?\/(?:announce|scrape)$/;

/**
 * A plain `GET /announce` (isPlainAnnounce) answered for a server that writes its own HTTP
 * (adapter/ffi-http-server.ts): request target, the connection's remote address, the request's
 * headers. The common reply comes as a 200's bencoded body, anything else as a Response (see
 * plainAnnounceBody).
 */
export type PlainAnnouncer = (
  target: string,
  address: string | undefined,
  header: (name: string) => string | undefined,
) => Uint8Array | Response | Promise<Response>;

const plainAnnouncers = new WeakMap<Hono, PlainAnnouncer>();

/** The PlainAnnouncer of an app createApp made. */
export function plainAnnouncerOf(app: Hono): PlainAnnouncer | undefined {
  return plainAnnouncers.get(app);
}

export function createApp(opts: AppOptions): Hono {
  const { store, config } = opts;
  const log = opts.log ?? createLogger(config.logLevel);
  const counters = opts.counters ?? new InstanceCounters();
  const t: TrackerContext = {
    log,
    outage: new StoreOutageLog(log),
    counters,
    config,
    clientIp: opts.clientIp,
    warning: opts.warning,
    requireStore() {
      if (!store) {
        throw new TrackerError("not-configured", opts.unavailableReason ?? NOT_CONFIGURED);
      }
      return store;
    },
  };
  // requestPath: routing must not depend on the Host (see request-url.ts).
  const app = new Hono({ getPath: requestPath });
  const hosts = new HostCheck();

  /**
   * Checks every request gets first, whatever its path: the query's size, then the method. Called at
   * the top of each route rather than as `app.use("*")` middleware, so that each request matches one
   * handler and Hono skips composing a middleware chain (a measurable share of an announce). Returns
   * the raw query.
   */
  const admit = (c: Context): string => {
    const search = rawSearch(c.req.url);
    checkQuerySize(search.length, config);
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD") {
      c.header("Allow", "GET, HEAD");
      throw new TrackerError("method-not-allowed", `${method} is not supported; use GET`);
    }
    return search;
  };

  /**
   * admit() for the paths that are not BitTorrent's. Announce and scrape never look at the Host (a
   * Host-less HTTP/1.0 client such as ctorrent must be served); the other pages refuse a missing or
   * malformed one with 400, as HTTP/1.1 asks.
   */
  const admitPage = (c: Context): void => {
    admit(c);
    if (!hosts.usable(c.req.url)) throw new TrackerError("bad-host", "the request has no usable Host header");
  };

  // app.all: other methods reach admit(), which refuses them with 405 rather than "no such path".
  app.all("/announce", (c) => handleAnnounce(c, RawQuery.parse(admit(c)), t));
  app.all("/scrape", (c) => handleScrape(c, RawQuery.parse(admit(c)), t));
  app.all("/:passkey/announce", (c) => handleAnnounce(c, RawQuery.parse(admit(c)), t, c.req.param("passkey")));
  app.all("/:passkey/scrape", (c) => handleScrape(c, RawQuery.parse(admit(c)), t, c.req.param("passkey")));
  // No token, no admin API: its paths are unknown (404) like any other.
  if (config.adminToken !== "") app.route("/admin/v1", createAdminApp(t, config.adminToken));
  app.all("/stats", (c) => (admitPage(c), handleStats(c, t)));
  app.all("/metrics", (c) => (admitPage(c), handleMetrics(c, t, store)));
  app.all("/health", (c) => (admitPage(c), handleHealth(c, store ? null : (opts.unavailableReason ?? NOT_CONFIGURED))));
  app.all("/", (c) => (admitPage(c), handleDashboardPage(c)));
  app.all("/dashboard.js", (c) => (admitPage(c), handleDashboardAsset(c, "script")));
  app.all("/dashboard.css", (c) => (admitPage(c), handleDashboardAsset(c, "style")));
  app.all("/dashboard.json", (c) => (admitPage(c), handleDashboardData(c, t)));

  app.notFound((c) => {
    if (config.adminToken !== "" && c.req.path.startsWith("/admin/v1/")) {
      return c.json({ error: "not-found", message: `no admin endpoint ${c.req.method} ${c.req.path}` }, 404);
    }
    admitPage(c);
    return errorResponse(c, new TrackerError("not-found", `no such path ${c.req.path}; announce at /announce`), log, counters);
  });
  app.onError((err, c) => errorResponse(c, err, log, counters));
  plainAnnouncers.set(app, (target, address, header) => plainAnnounceBody(target, address, header, t));
  const { requestIp } = opts;
  if (requestIp) {
    // app.request (the tests) calls app.fetch too, so both ways in take the same path.
    const viaRouter = app.fetch;
    app.fetch = (request, env, executionCtx) => {
      const url = request.url;
      return request.method === "GET" && isPlainAnnounce(url) ? plainAnnounce(request, url, env, t, requestIp) : viaRouter(request, env, executionCtx);
    };
  }
  return app;
}

function errorResponse(c: Context, err: unknown, log: Logger, counters: InstanceCounters): Response {
  const failure = trackerFailure(err, log, counters);
  const status = TRACKER_PATH.test(c.req.path) && failure.code !== "method-not-allowed" ? 200 : failure.status;
  c.header("X-Tracker-Error", failure.code);
  return bencodeReply(c, failureBody(failure), status as Parameters<typeof bencodeReply>[2]);
}
