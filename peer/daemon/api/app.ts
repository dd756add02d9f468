// The daemon's HTTP API as a Hono app over a DaemonControl: JSON under /api/v1, Prometheus text at
// /metrics, and the two front ends mounted beside it (the web UI's static files, the qBittorrent API under
// /api/v2 with its own logins). Every other request needs the bearer token (a bare 401 otherwise,
// api-token.ts), wherever the API listens. On a loopback address the Host must also be a loopback name,
// for every path: a web page whose name an attacker re-points at 127.0.0.1 (DNS rebinding) is refused.
// Failures of any kind end in errors.ts's errorReply; nothing else writes an error body.
import { type Context, Hono } from "hono";
import { PROMETHEUS_CONTENT_TYPE } from "../../../shared/prometheus-text.ts";
import { authorize, isLoopbackHost } from "../api-token.ts";
import type { DaemonControl } from "../control.ts";
import { errorReply, HttpError } from "./errors.ts";
import { daemonMetrics } from "./metrics.ts";
import { resource } from "./resource.ts";
import { daemonRoutes } from "./routes/daemon.ts";
import { torrentRoutes } from "./routes/torrents.ts";
import { trackerRoutes } from "./routes/trackers.ts";
import { EventStreams } from "./sse.ts";
import { type QbtApiOptions, qbtApi } from "../qbt/app.ts";
import { WEB_UI_PATHS, webUiRoutes } from "../webui/routes.ts";

export interface ApiAppOptions {
  control: DaemonControl;
  token: string;
  /** The qBittorrent-compatible API under /api/v2 (its own cookie logins); absent: not served. */
  qbittorrent?: Omit<QbtApiOptions, "control" | "token">;
  /** Whether the API listens on a loopback address only: then the Host header must name loopback too. */
  loopbackOnly: boolean;
  /** Where bugs are reported. Default: stderr. */
  log?: (line: string) => void;
  keepAliveMs?: number;
  /** Lifts the server's idle timeout for a long-lived response (an event stream). */
  holdOpen?: (request: Request) => void;
}

export interface ApiApp {
  app: Hono;
  streams: EventStreams;
}

export function createApiApp(options: ApiAppOptions): ApiApp {
  const { control, token } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const streams = new EventStreams(control, options.keepAliveMs);
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (options.loopbackOnly && !loopbackHostHeader(c.req.header("host"))) {
      throw new HttpError("bad-host", "this API listens on loopback and answers only to localhost, 127.0.0.1 or [::1] in the Host header");
    }
    // The web UI's files carry no data, and /api/v2 has qBittorrent's own logins (its SID cookie).
    if (WEB_UI_PATHS.has(c.req.path) || (options.qbittorrent && c.req.path.startsWith("/api/v2/"))) return next();
    const refused = authorize(c.req.raw, token);
    if (refused) return refused;
    await next();
    c.header("Cache-Control", "no-store");
  });

  webUiRoutes(app);
  if (options.qbittorrent) app.route("/api/v2", qbtApi({ ...options.qbittorrent, control, token }));
  torrentRoutes(app, control);
  trackerRoutes(app, control);
  daemonRoutes(app, control, streams, options.holdOpen ?? (() => {}));
  resource(app, "/metrics", {
    GET: (c) => c.body(daemonMetrics(control, streams.open), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }),
  });

  const reply = (c: Context, error: unknown) => {
    const { status, body } = errorReply(error, log);
    return c.json(body, status);
  };
  // Answered, not thrown: a path unknown under a mounted app (/api/v2/...) reaches this handler inside
  // that app, whose own error handler would take an HttpError for a bug.
  app.notFound((c) => reply(c, new HttpError("no-such-endpoint", `no endpoint ${c.req.method} ${c.req.path}; the API is under /api/v1 (see the README)`)));
  app.onError((error, c) => reply(c, error));
  return { app, streams };
}

/** The Host header's name is loopback; a request without one (HTTP/1.0) comes from no browser. */
function loopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined || host === "") return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  return isLoopbackHost(name);
}
