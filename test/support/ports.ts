// Free ports for servers the tests start. A port is chosen by the test and bound later by another process,
// so it must stay free in between. The kernel's own choice (port 0) comes from its ephemeral range, where
// every outgoing connection on the machine also takes its local port: on a busy machine (tens of thousands
// of sockets) one of them took such a port before btpeer bound it ("port-in-use", exit 5). Ports below that
// range are never handed out by the kernel, so only another test choosing the same number could take one.
import fs from "node:fs";

/** Lowest port the tests choose from: above the usual fixed ports of system services. */
const LOWEST = 10_000;

/** The kernel's ephemeral range ([low, high]), where connect() and bind(0) take their ports. */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {}
  return [32_768, 60_999]; // Linux's default
}

/** The ports outside the ephemeral range the tests may choose from, or null when there is too little room. */
function choosable(): [number, number][] | null {
  const [low, high] = ephemeralRange();
  const spans: [number, number][] = [];
  if (low - LOWEST >= 1_000) spans.push([LOWEST, low - 1]);
  if (65_535 - high >= 1_000) spans.push([high + 1, 65_535]);
  return spans.length > 0 ? spans : null;
}

/** Handed out already by this process: never twice, though the first may not be bound yet. */
const given = new Set<number>();

/** True when a TCP server could be bound on `port` now, on every IPv4 and every IPv6 address. */
function bindable(port: number): boolean {
  for (const hostname of ["0.0.0.0", "::"]) {
    try {
      Bun.listen({ hostname, port, socket: { data() {} } }).stop(true);
    } catch {
      return false;
    }
  }
  return true;
}

/** The kernel's choice of a free port on 127.0.0.1 (from its ephemeral range: see above). */
function kernelPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** A TCP port free on every address, outside the kernel's ephemeral range when there is room for it. */
export function freePort(): number {
  const spans = choosable();
  if (!spans) return kernelPort();
  const size = spans.reduce((n, [a, b]) => n + b - a + 1, 0);
  for (let tries = 0; tries < 200; tries++) {
    let k = Math.floor(Math.random() * size);
    let port = 0;
    for (const [a, b] of spans) {
      if (k <= b - a) {
        port = a + k;
        break;
      }
      k -= b - a + 1;
    }
    if (given.has(port) || !bindable(port)) continue;
    given.add(port);
    return port;
  }
  return kernelPort();
}
