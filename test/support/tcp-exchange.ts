// One TCP exchange with a server under test: connect, write, and collect what comes back until the server
// closes or the connection goes quiet, for tests (the fuzzers) that look at every byte answered.
import { connect, type Socket } from "node:net";

export interface ExchangeOptions {
  port: number;
  /** The local address to dial from (the system picks one if left out). */
  localAddress?: string;
  /**
   * How long the connection may stay quiet, after `send` and after each answer, before it is left. Not an
   * assertion: a peer may keep a connection open for minutes; this only paces the run.
   */
  quietMs: number;
  /** Writes what is sent; the quiet wait starts once it has returned. */
  send(socket: Socket): void | Promise<void>;
}

/** Everything the server answered, in order. */
export function tcpExchange(options: ExchangeOptions): Promise<Uint8Array> {
  const received: Buffer[] = [];
  return new Promise<Uint8Array>((resolve) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(new Uint8Array(Buffer.concat(received)));
    };
    const waitQuiet = () => {
      clearTimeout(quiet);
      quiet = setTimeout(done, options.quietMs);
    };
    const where = { host: "127.0.0.1", port: options.port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    const socket = connect(where, async () => {
      await options.send(socket);
      waitQuiet();
    });
    socket.on("data", (d: Buffer) => {
      received.push(d);
      waitQuiet();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}
