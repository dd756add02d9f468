// The UDP tracker's socket on Bun. On Linux, a socket of our own read and written in batches
// (bun-udp-batched.ts: recvmmsg/sendmmsg through bun:ffi); elsewhere, when that socket cannot be
// had, or with TRACKER_UDP_FFI=0, Bun's own socket (Bun.udpSocket), which calls back once per
// datagram. Both answer exactly as the tracker says.
import { parseIPv4, parseIPv6 } from "../../shared/compact.ts";
import type { Logger } from "../log.ts";
import { ReplyBatch } from "../udp/reply-batch.ts";
import type { UdpTracker } from "../udp/udp-tracker.ts";
import { BatchedUdpServer } from "./bun-udp-batched.ts";
import { UdpFfiError } from "./bun-udp-ffi.ts";

export type UdpSocketKind = "recvmmsg" | "Bun.udpSocket";

export interface BunUdpServer {
  port: number;
  kind: UdpSocketKind;
  /** The batched socket: the most datagrams one recvmmsg took so far (0 on Bun's socket, which does not say). */
  largestBatch(): number;
  /** Stops answering and frees the port. */
  stop(): Promise<void>;
}

export interface BunUdpOptions {
  hostname: string;
  port: number;
  log: Logger;
  /** false: Bun's own socket even where the batched one works (TRACKER_UDP_FFI=0). */
  batched: boolean;
}

export async function serveUdp(tracker: UdpTracker, o: BunUdpOptions): Promise<BunUdpServer> {
  // The batched socket binds an address literal; a host name ("localhost") goes to Bun's socket.
  const ip = parseIPv4(o.hostname) ?? parseIPv6(o.hostname);
  if (o.batched && ip !== null) {
    try {
      const server = new BatchedUdpServer(tracker, ip, o.port, o.log);
      return { port: server.port, kind: "recvmmsg", largestBatch: () => server.largestBatch, stop: () => server.stop() };
    } catch (err) {
      if (!(err instanceof UdpFfiError) || err.code === "bind") throw err;
      o.log.warn(`UDP: ${err.message}; using Bun's socket`);
    }
  }
  return serveWithBunSocket(tracker, o);
}

async function serveWithBunSocket(tracker: UdpTracker, o: BunUdpOptions): Promise<BunUdpServer> {
  const batch = new ReplyBatch((items) => socket.sendMany(items), setImmediate);
  const socket = await Bun.udpSocket({
    hostname: o.hostname,
    port: o.port,
    binaryType: "uint8array",
    socket: { data: (_s, packet, port, address) => tracker.receive(packet, address, port, (reply) => batch.add(reply, port, address)) },
  });
  return {
    port: socket.port,
    kind: "Bun.udpSocket",
    largestBatch: () => 0,
    stop: async () => socket.close(),
  };
}
