// What the node sends and receives through: one UDP socket per address family. An interface, so the
// node's packet handling can be driven without sockets (fuzz) and tests can forbid leaving loopback.
import { DhtError } from "./errors.ts";
import { isLoopbackAddress } from "./node-id.ts";

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
      // ICMP port-unreachable from a node that went away comes back as ECONNREFUSED on the next recv:
      // the query to it times out on its own, so there is nothing to do here.
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
      socket.send(bytes, port, ip);
    },
    close() {
      socket.close();
    },
  };
}
