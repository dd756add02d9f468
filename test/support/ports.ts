// Free loopback ports for servers the tests start.

/** Asks the kernel for a free TCP port on 127.0.0.1 (released before returning, so race-prone but fine here). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
