// The ports the tests choose for the servers and peers they start (test/support/ports.ts). Between the
// choice and the bind (a process starting, seconds on a loaded machine) the port must stay free: an outgoing
// connection anywhere on the machine takes its local port from the kernel's ephemeral range, so a port
// chosen there could be taken meanwhile (a full run once failed with btpeer's "port-in-use", exit 5).
import { expect, test } from "bun:test";
import { ephemeralRange, freePort } from "./support/ports.ts";

test("an outgoing connection takes its local port from the kernel's ephemeral range; freePort never chooses one there", async () => {
  const [low, high] = ephemeralRange();
  // The hazard: a connection made by anyone gets a port of that range, whoever chose it a moment before.
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const client = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {} } });
    expect(client.localPort).toBeGreaterThanOrEqual(low);
    expect(client.localPort).toBeLessThanOrEqual(high);
    client.end();
  } finally {
    server.stop(true);
  }
  const ports = Array.from({ length: 200 }, () => freePort());
  for (const port of ports) expect(port >= low && port <= high).toBe(false);
  expect(new Set(ports).size).toBe(ports.length); // never the same one twice, bound or not yet
});

test("a port from freePort can be listened on, on IPv4 and IPv6 loopback", () => {
  const port = freePort();
  for (const hostname of ["127.0.0.1", "::1"]) {
    const server = Bun.listen({ hostname, port, socket: { data() {} } });
    expect(server.port).toBe(port);
    server.stop(true);
  }
});
