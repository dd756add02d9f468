// A TCP relay between two BitTorrent peers that reads (never changes) what passes: after each side's
// 68-byte handshake, every length-prefixed message. It records, per direction, the piece indices of
// `request` and `have` messages, so a test can see exactly which pieces a peer asked for and announced.
// Plain BitTorrent only: an encrypted stream (MSE) is flagged and its messages are not recorded.
import * as net from "node:net";

const HANDSHAKE = 68;
const PSTR = "\x13BitTorrent protocol";

/** What one direction carried. */
export interface Direction {
  requests: number[];
  haves: number[];
  /** True when the stream did not start with a plain BitTorrent handshake. */
  unreadable: boolean;
}

class StreamReader {
  private buffer = new Uint8Array(0);
  private handshakeDone = false;

  constructor(private readonly into: Direction) {}

  feed(chunk: Uint8Array): void {
    if (this.into.unreadable) return;
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let at = 0;
    if (!this.handshakeDone) {
      if (joined.length < HANDSHAKE) return void (this.buffer = joined);
      if (new TextDecoder().decode(joined.subarray(0, PSTR.length)) !== PSTR) {
        this.into.unreadable = true;
        return;
      }
      this.handshakeDone = true;
      at = HANDSHAKE;
    }
    const view = new DataView(joined.buffer);
    while (joined.length - at >= 4) {
      const length = view.getUint32(at);
      if (joined.length - at - 4 < length) break;
      if (length > 0) {
        const id = joined[at + 4]!;
        if (id === 6 && length === 13) this.into.requests.push(view.getUint32(at + 5));
        if (id === 4 && length === 5) this.into.haves.push(view.getUint32(at + 5));
      }
      at += 4 + length;
    }
    this.buffer = joined.slice(at);
  }
}

export interface BtRelay {
  /** The port to give the dialing peer. */
  port: number;
  /** What the dialing peer sent (towards the target), and what the target sent back. */
  fromDialer: Direction;
  fromTarget: Direction;
  /** Connections relayed so far. */
  connections: number;
  stop(): void;
}

/** Listens on a free loopback port; each connection is relayed to 127.0.0.1:`targetPort`. */
export async function startBtRelay(targetPort: number): Promise<BtRelay> {
  const fromDialer: Direction = { requests: [], haves: [], unreadable: false };
  const fromTarget: Direction = { requests: [], haves: [], unreadable: false };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    relay.connections++;
    const target = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, target]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    const up = new StreamReader(fromDialer);
    const down = new StreamReader(fromTarget);
    client.on("data", (chunk: Buffer) => up.feed(chunk));
    target.on("data", (chunk: Buffer) => down.feed(chunk));
    // pipe() keeps each direction within the other side's pace (backpressure).
    client.pipe(target);
    target.pipe(client);
    client.on("error", () => target.destroy());
    target.on("error", () => client.destroy());
    client.on("close", () => target.destroy());
    target.on("close", () => client.destroy());
  });
  const relay: BtRelay = {
    port: 0,
    fromDialer,
    fromTarget,
    connections: 0,
    stop: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}
