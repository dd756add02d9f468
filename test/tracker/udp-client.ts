// A BEP 15 client for the UDP conformance suite, on a real loopback socket, using the shared codec.
// Replies are queued as they come; `next` waits for the first one matching a transaction id.
import type { udp } from "bun";
import {
  decodeResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  type AnnounceRequest,
  type AnnounceResponse,
  type Family,
  type ScrapeResponse,
  type UdpResponse,
} from "../../shared/udp-tracker/index.ts";

/** A safety deadline for one reply on loopback, not a performance bound. */
const REPLY_DEADLINE_MS = 10_000;

export class UdpTrackerClient {
  /** Every datagram received so far, raw, in arrival order. */
  readonly received: Uint8Array[] = [];
  private waiters: Array<() => void> = [];
  private nextTx = Math.floor(Math.random() * 0x7fffffff);

  private constructor(
    private readonly socket: udp.Socket<"uint8array">,
    readonly host: string,
    readonly port: number,
    readonly family: Family,
  ) {}

  /** A client on its own loopback socket (the tracker's address family), talking to host:port. */
  static async open(host: string, port: number): Promise<UdpTrackerClient> {
    const family: Family = host.includes(":") ? 6 : 4;
    let client: UdpTrackerClient | undefined;
    const socket = await Bun.udpSocket({
      hostname: family === 6 ? "::1" : "127.0.0.1",
      binaryType: "uint8array",
      socket: {
        data(_s, data) {
          client!.received.push(data.slice());
          const waiters = client!.waiters;
          client!.waiters = [];
          for (const w of waiters) w();
        },
      },
    });
    client = new UdpTrackerClient(socket, host, port, family);
    return client;
  }

  get localPort(): number {
    return this.socket.port;
  }

  tx(): number {
    return this.nextTx++ >>> 0;
  }

  send(packet: Uint8Array): void {
    this.socket.send(packet, this.port, this.host);
  }

  /** The first reply (past or future) with this transaction id; rejects after the safety deadline. */
  async next(transactionId: number): Promise<UdpResponse> {
    const deadline = Date.now() + REPLY_DEADLINE_MS;
    for (;;) {
      for (const raw of this.received) {
        if (raw.length >= 8 && new DataView(raw.buffer, raw.byteOffset).getUint32(4) === transactionId) return decodeResponse(raw, this.family);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply with transaction id ${transactionId} from ${this.host}:${this.port}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The raw reply bytes with this transaction id, once it has arrived. */
  rawReply(transactionId: number): Uint8Array | undefined {
    return this.received.find((raw) => raw.length >= 8 && new DataView(raw.buffer, raw.byteOffset).getUint32(4) === transactionId);
  }

  async connect(): Promise<bigint> {
    const tx = this.tx();
    this.send(encodeConnectRequest(tx));
    const reply = await this.next(tx);
    if (reply.action !== "connect") throw new Error(`connect got ${JSON.stringify(reply)}`);
    return reply.connectionId;
  }

  async announce(fields: Partial<Omit<AnnounceRequest, "action" | "transactionId">> & Pick<AnnounceRequest, "infoHash" | "port">): Promise<AnnounceResponse> {
    const connectionId = fields.connectionId ?? (await this.connect());
    const tx = this.tx();
    this.send(
      encodeAnnounceRequest({
        connectionId,
        transactionId: tx,
        peerId: crypto.getRandomValues(new Uint8Array(20)),
        downloaded: 0,
        left: 1000,
        uploaded: 0,
        event: "none",
        ip: 0,
        key: 1,
        numWant: -1,
        ...fields,
      }),
    );
    const reply = await this.next(tx);
    if (reply.action !== "announce") throw new Error(`announce got ${JSON.stringify(reply)}`);
    return reply;
  }

  async scrape(infoHashes: Uint8Array[]): Promise<ScrapeResponse> {
    const connectionId = await this.connect();
    const tx = this.tx();
    this.send(encodeScrapeRequest({ connectionId, transactionId: tx, infoHashes }));
    const reply = await this.next(tx);
    if (reply.action !== "scrape") throw new Error(`scrape got ${JSON.stringify(reply)}`);
    return reply;
  }

  /**
   * Whether the tracker answered `packet` (sent with transaction id `tx`): sends it, then a connect
   * request, twice over, and looks for a reply to `tx` once both connect replies are in. A tracker
   * answers a sender's datagrams in order on loopback, so no waiting on a clock is involved.
   */
  async answers(packet: Uint8Array, tx: number): Promise<Uint8Array | undefined> {
    this.send(packet);
    for (let i = 0; i < 2; i++) {
      const probe = this.tx();
      this.send(encodeConnectRequest(probe));
      await this.next(probe);
    }
    return this.rawReply(tx);
  }

  close(): void {
    this.socket.close();
  }
}
