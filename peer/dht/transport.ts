// What the node sends and receives through: one UDP socket per address family. An interface, so the
// node's packet handling can be driven without sockets (fuzz) and tests can forbid leaving loopback.
import { DhtError } from "./errors.ts";
import { isLoopbackAddress } from "../net/loopback.ts";

export type Family = 4 | 6;

export interface DhtTransport {
  readonly family: Family;
  readonly port: number;
  send(bytes: Uint8Array, ip: string, port: number): void;
  close(): void;
}

export type PacketHandler = (bytes: Uint8Array, ip: string, port: number) => void;

export interface UdpTransportOptions {
  family: Family;
  host: string;
  port: number;
  /** Throw on any destination outside 127/8 and ::1: tests use this so no packet can reach the Internet. */
  loopbackOnly?: boolean;
}

/**
 * One datagram out. An ICMP port-unreachable drawn by an earlier packet (a node that went away) is
 * reported by the kernel on this send, as ECONNREFUSED, and this packet is not sent: it is sent once
 * more. Any other send failure (no route, full buffers) loses the packet as the network could: its
 * query times out. Never throws for the network's doing, so a dead node cannot fail a lookup.
 */
function sendDatagram(send: () => void): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      send();
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // Not a system error (none, or Node's ERR_ kind: a bad argument): a bug, thrown.
      if (typeof code !== "string" || code.startsWith("ERR_")) throw error;
      if (code !== "ECONNREFUSED") return;
    }
  }
}

/**
 * Both families on one dual-stack socket bound to `::`, so they share one port (the one the `port`
 * message announces): Linux refuses `::` on a port `0.0.0.0` already holds. IPv4 arrives as
 * ::ffff:a.b.c.d and is handed on as plain a.b.c.d. Rejects where IPv6 is unavailable.
 */
export async function openDualStackTransports(port: number, loopbackOnly: boolean, onPacket: (family: Family) => PacketHandler): Promise<DhtTransport[]> {
  const v4 = onPacket(4);
  const v6 = onPacket(6);
  const socket = await Bun.udpSocket({
    hostname: "::",
    port,
    binaryType: "uint8array",
    socket: {
      data(_socket, data, fromPort, address) {
        if (address.startsWith("::ffff:") && address.includes(".")) v4(data, address.slice(7), fromPort);
        else v6(data, address, fromPort);
      },
      error() {},
    },
  });
  let open = 2;
  const view = (family: Family): DhtTransport => ({
    family,
    port: socket.port,
    send(bytes, ip, toPort) {
      if (loopbackOnly && !isLoopbackAddress(ip)) {
        throw new DhtError("non-loopback-destination", `refusing to send to ${ip}:${toPort}: this transport is loopback-only`);
      }
      sendDatagram(() => socket.send(bytes, toPort, family === 4 ? `::ffff:${ip}` : ip));
    },
    close() {
      if (--open === 0) socket.close();
    },
  });
  return [view(4), view(6)];
}

export async function openUdpTransport(options: UdpTransportOptions, onPacket: PacketHandler): Promise<DhtTransport> {
  const socket = await Bun.udpSocket({
    hostname: options.host,
    port: options.port,
    binaryType: "uint8array",
    socket: {
      data(_socket, data, port, address) {
        // A dual-stack IPv6 socket may hand us IPv4 as ::ffff:a.b.c.d; that family has its own socket.
        if (options.family === 6 && address.startsWith("::ffff:") && address.includes(".")) return;
        onPacket(data, address, port);
      },
      // ICMP errors come back on the next send (see sendDatagram); the query they concern times out.
      error() {},
    },
  });
  return {
    family: options.family,
    port: socket.port,
    send(bytes, ip, port) {
      if (options.loopbackOnly && !isLoopbackAddress(ip)) {
        throw new DhtError("non-loopback-destination", `refusing to send to ${ip}:${port}: this transport is loopback-only`);
      }
      sendDatagram(() => socket.send(bytes, port, ip));
    },
    close() {
      socket.close();
    },
  };
}

/**
 * The node's sockets. By default every interface, both families on one dual-stack port, or IPv4 alone
 * where IPv6 is missing; with `hosts`, one socket per family on the given addresses (null: none).
 */
export async function openTransports(
  port: number | Record<Family, number>,
  hosts: { 4?: string | null; 6?: string | null } | undefined,
  loopbackOnly: boolean,
  deliver: (family: Family) => PacketHandler,
): Promise<DhtTransport[]> {
  const portOf = (family: Family) => (typeof port === "number" ? port : port[family]);
  if (!hosts) {
    try {
      return await openDualStackTransports(portOf(4), loopbackOnly, deliver);
    } catch {
      return [await openUdpTransport({ family: 4, host: "0.0.0.0", port: portOf(4), loopbackOnly }, deliver(4))];
    }
  }
  const out: DhtTransport[] = [];
  for (const family of [4, 6] as const) {
    const host = hosts[family];
    if (!host) continue;
    try {
      out.push(await openUdpTransport({ family, host, port: portOf(family), loopbackOnly }, deliver(family)));
    } catch (error) {
      if (family === 4) throw error; // IPv6 may be missing on this host: run on IPv4 alone
    }
  }
  return out;
}
