// The tracker's own HTTP/1.1 server on Bun.listen, for stores whose answers wait on the network (see
// bun-serve.ts for why not Bun.serve there). http1-codec.ts parses, http1-connection.ts orders the
// answers of each connection.
import { NO_HOST_ORIGIN } from "../request-url.ts";
import { Http1Connection, type ConnectionInfo, type RequestHandler } from "./http1-connection.ts";

export interface Http1Server {
  hostname: string;
  port: number;
  /** Stops listening and closes every connection. */
  stop(): void;
  /** What the open connections hold: bytes read but not yet answered or sent, and how many stopped reading. */
  load(): { connections: number; heldBytes: number; pausedConnections: number };
}

/** Seconds a connection may wait for its client between requests. */
const IDLE_TIMEOUT_SEC = 30;

export function serveHttp1(opts: { hostname: string; port: number; handler: RequestHandler; onHandlerError: (error: unknown) => void }): Http1Server {
  const open = new Set<Http1Connection>();
  const closed = (connection: Http1Connection | undefined) => {
    if (!connection) return;
    connection.onClose();
    open.delete(connection);
  };
  const listener = Bun.listen<Http1Connection>({
    hostname: opts.hostname,
    port: opts.port,
    // A client's FIN ends its requests, not our answers (see Http1Connection.onEnd).
    allowHalfOpen: true,
    socket: {
      open(socket) {
        socket.timeout(IDLE_TIMEOUT_SEC);
        const info: ConnectionInfo = { remoteAddress: socket.remoteAddress };
        socket.data = new Http1Connection(socket, opts.handler, info, NO_HOST_ORIGIN, opts.onHandlerError);
        open.add(socket.data);
      },
      data: (socket, chunk) => socket.data.onData(chunk),
      end: (socket) => socket.data.onEnd(),
      drain: (socket) => socket.data.onDrain(),
      timeout: (socket) => socket.data.onTimeout(),
      close: (socket) => closed(socket.data),
      error: (socket) => closed(socket.data),
    },
  });
  const load = () => {
    let heldBytes = 0;
    let pausedConnections = 0;
    for (const c of open) {
      heldBytes += c.heldBytes;
      if (c.paused) pausedConnections++;
    }
    return { connections: open.size, heldBytes, pausedConnections };
  };
  return { hostname: listener.hostname, port: listener.port, stop: () => listener.stop(true), load };
}
