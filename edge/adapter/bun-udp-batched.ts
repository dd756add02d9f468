// The UDP tracker's socket on Bun on Linux, in batches: each turn takes every datagram waiting (up to
// a table's worth) with one recvmmsg, hands each to the tracker, and sends the replies that are ready
// with one sendmmsg in the next turn of the event loop. When nothing waits, a poller thread
// (bun-udp-poller.ts) blocks in poll() until something does and wakes this thread once.
//
// States: "draining" (this thread reads the socket turn after turn), "waiting" (the poller is armed),
// "stopped".
import type { Logger } from "../log.ts";
import { MAX_REPLY_BYTES, type Response, type UdpTracker } from "../udp/udp-tracker.ts";
import { FfiUdpSocket, linkTable } from "./bun-udp-ffi.ts";
import { AF_INET, AF_INET6, ipv4Text, ipv6Text, MessageTable, type SocketAddress } from "./linux-mmsg.ts";
import { PollerThread } from "./poller-thread.ts";

/** Datagrams per recvmmsg and per sendmmsg. */
export const BATCH = 256;
/** Bytes per datagram slot: more than any request or reply of BEP 15 (a longer datagram is still seen whole in length). */
const SLOT_BYTES = 2048;
if (SLOT_BYTES < MAX_REPLY_BYTES) throw new Error("a send slot must hold the largest reply");

type State = "draining" | "waiting" | "stopped";

export class BatchedUdpServer {
  readonly port: number;
  private readonly socket: FfiUdpSocket;
  private readonly rx = new MessageTable(BATCH, SLOT_BYTES);
  private readonly tx = new MessageTable(BATCH, SLOT_BYTES);
  private readonly rxBase: number;
  private readonly txBase: number;
  private readonly poller: PollerThread;
  private state: State = "draining";
  private turnScheduled = false;
  private replies: Uint8Array[] = [];
  private destinations: SocketAddress[] = [];
  /** The most datagrams one recvmmsg took so far (for tests: shows that batching happens). */
  largestBatch = 0;

  /** Throws UdpFfiError when the socket cannot be had (no Linux, bind refused). */
  constructor(
    private readonly tracker: UdpTracker,
    ip: Uint8Array,
    port: number,
    log: Logger,
  ) {
    this.socket = new FfiUdpSocket(ip, port);
    this.port = this.socket.port;
    this.rxBase = linkTable(this.rx);
    this.txBase = linkTable(this.tx);
    try {
      // Without its poller the socket would be read no more once idle: say so loudly.
      this.poller = new PollerThread(this.socket.fd, (err) => log.error(`UDP poller thread failed: ${err instanceof Error ? err.message : String(err)}`));
    } catch (err) {
      this.socket.close();
      throw err;
    }
    this.drain();
  }

  /** Stops reading, lets the poller thread end, closes the socket (the port is free once this resolves). */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    await this.poller.stop();
    this.socket.close();
  }

  private drain(): void {
    const n = this.socket.receive(this.rx, this.rxBase);
    if (n === 0) return this.wait();
    if (n > this.largestBatch) this.largestBatch = n;
    // n < 0: one datagram's error was taken instead of data; read on in the next turn.
    let replies = 0;
    for (let i = 0; i < n; i++) replies = this.dispatch(i, replies);
    // The replies answered at once are in place: sent now, before the next turn reuses the table.
    if (replies > 0) this.socket.send(this.tx, this.txBase, replies);
    this.scheduleTurn();
  }

  /**
   * Hands datagram `i` to the tracker, which writes its reply straight into send slot `replies` when
   * it can answer at once; a reply that comes later is queued. The next free send slot.
   */
  private dispatch(i: number, replies: number): number {
    const rx = this.rx;
    const family = rx.family(i);
    const at = replies * SLOT_BYTES;
    let reply: Response;
    // ipv4Text is canonical already; IPv6 text is looked up (an IPv4-mapped address becomes IPv4).
    if (family === AF_INET) reply = this.tracker.respondFrom(rx.data(i), ipv4Text(rx.ip4(i)), rx.port(i), this.tx.bytes, at);
    else if (family === AF_INET6) reply = this.tracker.respond(rx.data(i), ipv6Text(rx.ip6(i)), rx.port(i), this.tx.bytes, at);
    else return replies;
    if (typeof reply === "number") {
      if (reply === 0) return replies;
      this.tx.setReplyTo(replies, reply, rx, i);
      return replies + 1;
    }
    if (reply instanceof Uint8Array) {
      this.tx.setOutgoing(replies, reply, rx.address(i)!);
      return replies + 1;
    }
    if (reply !== null) {
      const to = rx.address(i)!;
      reply.then((r) => {
        if (r !== null) this.queue(r, to);
      });
    }
    return replies;
  }

  private queue(reply: Uint8Array, to: SocketAddress): void {
    if (this.state === "stopped") return;
    this.replies.push(reply);
    this.destinations.push(to);
    this.scheduleTurn();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.turn);
  }

  /** After the datagrams of a batch were handled (and their replies computed, when the store is in memory). */
  private readonly turn = (): void => {
    this.turnScheduled = false;
    if (this.state === "stopped") return;
    this.flush();
    if (this.state === "draining") this.drain();
  };

  private flush(): void {
    const replies = this.replies;
    const destinations = this.destinations;
    if (replies.length === 0) return;
    this.replies = [];
    this.destinations = [];
    for (let from = 0; from < replies.length; from += BATCH) {
      const n = Math.min(BATCH, replies.length - from);
      for (let i = 0; i < n; i++) this.tx.setOutgoing(i, replies[from + i]!, destinations[from + i]!);
      this.socket.send(this.tx, this.txBase, n);
    }
  }

  /** Nothing waits: arm the poller and sleep until it says something does. */
  private wait(): void {
    this.state = "waiting";
    this.poller.arm(this.onReadable);
  }

  private readonly onReadable = (): void => {
    if (this.state !== "waiting") return;
    this.state = "draining";
    this.drain();
  };
}
