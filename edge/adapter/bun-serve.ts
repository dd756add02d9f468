// Serving the tracker app on Bun, shared by `npm start` (bun.ts) and `npm run start:redis`.
import type { Hono } from "hono";
import type { Logger } from "../log.ts";

export interface BunServeOptions {
  hostname: string;
  port: number;
  log: Logger;
}

export function serveTracker(app: Hono, opts: BunServeOptions): Bun.Server<undefined> {
  return Bun.serve({
    hostname: opts.hostname,
    port: opts.port,
    fetch: app.fetch,
    // Bun's development mode answers an uncaught error with a page holding source lines and paths.
    development: false,
    // The app answers its own errors; this is the last resort, and it shows no stack to the client.
    error(error) {
      opts.log.error(`unhandled error in request handling: ${error.name}: ${error.message}`);
      return new Response("internal server error\n", { status: 500, headers: { "content-type": "text/plain" } });
    },
  });
}
