// The API on Bun.serve. It refuses to start without a usable token: every request needs one, and an API
// beyond loopback without one would hand the daemon to the network.
import { isLoopbackHost } from "../api-token.ts";
import type { DaemonControl } from "../control.ts";
import type { Context } from "hono";
import { LabelStore } from "../qbt/labels.ts";
import { createApiApp } from "./app.ts";

export interface ApiServer {
  url: string;
  stop(): Promise<void>;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  token: string;
  /** Where the qBittorrent API keeps its categories and tags, and where added torrents go by default. */
  stateDir?: string;
  downloadDir?: string;
  log?: (line: string) => void;
}

/** Generated tokens are 43 characters; anything much shorter is guessable. */
const MIN_TOKEN_LENGTH = 32;

export function startApiServer(control: DaemonControl, options: ApiServerOptions): ApiServer {
  if (options.token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the API needs a token of at least ${MIN_TOKEN_LENGTH} characters to listen on ${options.host}; the daemon keeps one in its state dir`);
  }
  const host = options.host.replace(/^\[(.*)\]$/, "$1");
  const { app, streams } = createApiApp({
    control,
    token: options.token,
    loopbackOnly: isLoopbackHost(host),
    ...(options.stateDir && options.downloadDir
      ? {
          qbittorrent: {
            labels: LabelStore.inStateDir(options.stateDir),
            defaultSavePath: options.downloadDir,
            clientIp: (c: Context) => server.requestIP(c.req.raw)?.address ?? "",
          },
        }
      : {}),
    // Bun's idle timeout counts from the request, not the last write: an event stream would be cut after 10 s.
    holdOpen: (request) => server.timeout(request, 0),
    ...(options.log ? { log: options.log } : {}),
  });
  const server = Bun.serve({ hostname: host, port: options.port, fetch: app.fetch });
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${server.port}`,
    async stop() {
      streams.closeAll();
      await server.stop(true);
    },
  };
}
