// Serving the tracker app on Bun, shared by `npm start` (bun.ts) and `npm run start:redis`.
//
// Two servers, chosen by the store. In Bun 1.4.5, Bun.serve's HTTP layer (uWS) closes a connection,
// writing nothing, when a pipelined request or the client's half-close arrives while a response is
// still being computed (oven-sh/bun#33664, #35036 and #38128 describe that close). The memory store
// answers within the event-loop turn the request arrived in, so Bun.serve never meets a pending
// response there, and its native HTTP costs less CPU per announce (about 18 µs against 25 µs,
// measured with wrk on this app). A store that waits for the network (Upstash) has its answers
// pending across turns: pipelined and half-closed requests got no answer at all, so that tracker
// speaks HTTP/1.1 itself (http1-server.ts), where neither ends the answering.
import type { Context, Hono } from "hono";
import { plainAnnouncerOf } from "../app.ts";
import type { Logger } from "../log.ts";
import type { StoreKind } from "../server-setup.ts";
import type { ConnectionInfo } from "./http1-connection.ts";
import { serveFfiHttp } from "./ffi-http-server.ts";
import { serveHttp1 } from "./http1-server.ts";
import { TcpFfiError } from "./linux-tcp.ts";

export interface BunServeOptions {
  hostname: string;
  port: number;
  log: Logger;
  storeKind: StoreKind;
  /** Serve HTTP from the listener on raw syscalls (ffi-http-server.ts) where it can be had (bun.ts: unless TRACKER_HTTP_FFI=0). */
  ffi?: boolean;
}

export interface TrackerServer {
  hostname: string;
  port: number;
  /** Which HTTP server answers: Bun.serve, the own one on Bun.listen, or the one on raw syscalls. */
  kind: "Bun.serve" | "Bun.listen" | "ffi";
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

/** The client address, for setupTracker's `requestIp`, from whichever server passed the request (`env`). */
export function requestAddress(request: Request, env: unknown): string | undefined {
  const server = env as ConnectionInfo | Bun.Server<undefined>;
  return "remoteAddress" in server ? server.remoteAddress : server.requestIP(request)?.address;
}

/** The same, for setupTracker's `clientIp`, from a Hono context. */
export function clientAddress(c: Context): string | undefined {
  return requestAddress(c.req.raw, c.env);
}

/** What setupTracker and createApp take to read the client address on Bun, either way. */
export const BUN_CLIENT_ADDRESS = { clientIp: clientAddress, requestIp: requestAddress };

export function serveTracker(app: Hono, opts: BunServeOptions): TrackerServer {
  // The app answers its own errors; this is the last resort, and the client sees no stack.
  const lastResort = (error: unknown) =>
    opts.log.error(`unhandled error in request handling: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`);
  if (opts.ffi) {
    try {
      const server = serveFfiHttp({
        hostname: opts.hostname,
        port: opts.port,
        handler: (request, info) => app.fetch(request, info),
        plain: plainAnnouncerOf(app),
        onHandlerError: lastResort,
      });
      return { hostname: server.hostname, port: server.port, kind: "ffi", stop: () => server.stop() };
    } catch (err) {
      if (!(err instanceof TcpFfiError) || err.code === "bind") throw err;
      opts.log.warn(`HTTP: ${err.message}; serving through Bun`);
    }
  }
  if (opts.storeKind !== "memory") {
    const server = serveHttp1({ hostname: opts.hostname, port: opts.port, handler: (request, info) => app.fetch(request, info), onHandlerError: lastResort });
    return { hostname: server.hostname, port: server.port, kind: "Bun.listen", stop: async () => server.stop() };
  }
  const server = Bun.serve({
    hostname: opts.hostname,
    port: opts.port,
    fetch: app.fetch,
    // Bun's development mode answers an uncaught error with a page holding source lines and paths.
    development: false,
    error(error) {
      lastResort(error);
      return new Response("internal server error\n", { status: 500, headers: { "content-type": "text/plain" } });
    },
  });
  return { hostname: server.hostname ?? opts.hostname, port: server.port ?? opts.port, kind: "Bun.serve", stop: () => server.stop(true) };
}
