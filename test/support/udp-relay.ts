// Real UDP sockets that stand between a UDP tracker client and a tracker, for tests on loopback:
// a relay that forwards both ways (recording every request and dropping the first N, to exercise
// retransmission and count connect packets), and a scripted "tracker" whose answers a test writes
// (wrong transaction ids, short packets, replies from another socket, error packets).
import type { udp } from "bun";

type Socket = udp.Socket<"uint8array">;

/** The BEP 15 action of a request datagram (offset 8), or -1 when too short to have one. */
export function requestAction(packet: Uint8Array): number {
  return packet.length >= 16 ? new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(8) : -1;
}

/** The transaction id of a request datagram (offset 12). */
export function requestTx(packet: Uint8Array): number {
  return new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(12);
}

export interface UdpRelay {
  host: string;
  port: number;
  url: string;
  /** Every datagram the client sent, in order (dropped ones included). */
  readonly requests: Uint8Array[];
  /** How many of the first client datagrams to drop; read and lowered as it drops them. */
  dropNext: number;
  close(): void;
}

function udpUrl(host: string, port: number): string {
  return `udp://${host.includes(":") ? `[${host}]` : host}:${port}/announce`;
}

/** A relay on `host` in front of the tracker at `host`:`upstreamPort`. */
export async function startUdpRelay(host: string, upstreamPort: number, dropFirst = 0): Promise<UdpRelay> {
  let client: { address: string; port: number } | null = null;
  const relay: Omit<UdpRelay, "port" | "close"> = { host, url: "", requests: [], dropNext: dropFirst };
  const socket: Socket = await Bun.udpSocket({
    hostname: host,
    binaryType: "uint8array",
    socket: {
      data(s, data, port, address) {
        if (port === upstreamPort && address === host) {
          if (client) s.send(data, client.port, client.address);
          return;
        }
        client = { address, port };
        relay.requests.push(data.slice());
        if (relay.dropNext > 0) return void relay.dropNext--;
        s.send(data, upstreamPort, host);
      },
    },
  });
  return Object.assign(relay, { port: socket.port, url: udpUrl(host, socket.port), close: () => socket.close() });
}

export interface ScriptedTracker {
  port: number;
  url: string;
  /** Every request datagram received, in order. */
  readonly requests: Uint8Array[];
  close(): void;
}

/** What the scripted tracker sends for one request: bytes from its own socket, or from a second one. */
export interface ScriptedReply {
  bytes: Uint8Array;
  fromOtherSocket?: boolean;
}

/** A "tracker" on `host` that answers each request with whatever `answer` returns (nothing: silence). */
export async function startScriptedTracker(host: string, answer: (request: Uint8Array, index: number) => ScriptedReply[]): Promise<ScriptedTracker> {
  const requests: Uint8Array[] = [];
  // The client's socket is connected to `socket`: the kernel drops what `other` sends and answers it with an
  // ICMP refusal, which comes back here as an error.
  const other: Socket = await Bun.udpSocket({ hostname: host, binaryType: "uint8array", socket: { error() {} } });
  const socket: Socket = await Bun.udpSocket({
    hostname: host,
    binaryType: "uint8array",
    socket: {
      data(s, data, port, address) {
        const request = data.slice();
        requests.push(request);
        for (const reply of answer(request, requests.length - 1)) (reply.fromOtherSocket ? other : s).send(reply.bytes, port, address);
      },
    },
  });
  return {
    port: socket.port,
    url: udpUrl(host, socket.port),
    requests,
    close: () => (socket.close(), other.close()),
  };
}
