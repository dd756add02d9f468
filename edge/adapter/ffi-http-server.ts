// The tracker's HTTP/1.1 server on raw syscalls through bun:ffi (Linux x86-64; bun.ts uses it unless TRACKER_HTTP_FFI=0).
//
// Why: a client announces over a fresh TCP connection each time, and Bun.serve costs about as much CPU
// per connection as opentracker's whole announce (bench/tracker-http.ts's close mode: a bare Bun.serve
// 42-47 µs per request, opentracker 45-51, a bare listener like this one 27-32). Here a connection
// that brings one whole request costs four syscalls (accept4, recv, send, close) and no Bun object:
// TCP_DEFER_ACCEPT makes accept return it once the request has arrived, and a plain GET /announce is
// answered from its bytes (app.ts's PlainAnnouncer) without a Request or Response. When it asked to
// close, no object is kept for it either (Http1Protocol.accepted), and its answer leaves in one
// segment with our FIN (MSG_MORE, linux-tcp.ts).
//
// Each turn accepts the connections waiting and reads the open ones epoll reports ready, up to a
// batch each; when nothing is ready, the UDP server's poller thread (bun-udp-poller.ts) blocks in
// poll() on the epoll set (which holds the listening socket too) and wakes this thread once.
//
// This file is that loop; a connection's protocol is ffi-http-protocol.ts, the syscalls' buffers and
// the epoll set linux-tcp-io.ts, the answers' bytes http1-reply.ts.
import type { PlainAnnouncer } from "../app.ts";
import { parseIPv4, parseIPv6 } from "../../shared/compact.ts";
import { Http1Protocol } from "./ffi-http-protocol.ts";
import type { RequestHandler } from "./http1-connection.ts";
import {
  ECONNABORTED,
  EINTR,
  EMFILE,
  ENFILE,
  ENOBUFS,
  ENOMEM,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  errno,
  listenTcp,
  TcpFfiError,
  tcpLibc,
  type TcpLibc,
} from "./linux-tcp.ts";
import { BATCH, TcpIo } from "./linux-tcp-io.ts";
import { PollerThread } from "./poller-thread.ts";

export { MAX_HELD_BYTES, MAX_OPEN } from "./ffi-http-protocol.ts";
/** A connection that makes no progress (no whole request read, no answer byte taken) for this long is closed. */
export const IDLE_MS = 30_000;
const SWEEP_MS = 5_000;
/** After accept failed for want of descriptors or memory, accepting pauses this long. */
const ACCEPT_PAUSE_MS = 100;

export interface FfiHttpOptions {
  /** An IPv4 or IPv6 address literal. */
  hostname: string;
  port: number;
  handler: RequestHandler;
  /** Answers a plain GET /announce from its target without a Request (app.ts's plainAnnouncerOf). */
  plain: PlainAnnouncer | undefined;
  onHandlerError: (error: unknown) => void;
  /** A connection that makes no progress this long is closed (default IDLE_MS; tests shorten it). */
  idleMs?: number;
}

export interface FfiHttpServer {
  hostname: string;
  port: number;
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
  /** Connections with state kept, and the bytes they hold. */
  load(): { connections: number; heldBytes: number };
}

type State = "draining" | "waiting" | "stopped";

/** Throws TcpFfiError where the listener cannot be had (not Linux x86-64, not an address literal, bind refused). */
export function serveFfiHttp(opts: FfiHttpOptions): FfiHttpServer {
  const ip = parseIPv4(opts.hostname) ?? parseIPv6(opts.hostname);
  if (ip === null) throw new TcpFfiError("unavailable", `"${opts.hostname}" is not an address literal`);
  const c = tcpLibc();
  const listener = listenTcp(c, ip, opts.port);
  const server = new Server(c, listener.fd, opts);
  return {
    hostname: opts.hostname,
    port: listener.port,
    stop: () => server.stop(),
    load: () => server.load(),
  };
}

class Server {
  private readonly protocol: Http1Protocol;
  private readonly io: TcpIo;
  private state: State = "draining";
  private acceptPaused = false;
  private readonly poller: PollerThread;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    c: TcpLibc,
    private readonly lfd: number,
    opts: FfiHttpOptions,
  ) {
    this.io = new TcpIo(c, lfd);
    const idleMs = opts.idleMs ?? IDLE_MS;
    this.protocol = new Http1Protocol(this.io, opts, idleMs);
    // The listening socket is in the set only so that the poller wakes for it.
    this.io.control(EPOLL_CTL_ADD, lfd, EPOLLIN);
    this.poller = new PollerThread(this.io.epfd, (err) => opts.onHandlerError(err));
    this.sweeper = setInterval(() => this.protocol.sweep(), Math.min(SWEEP_MS, idleMs / 2));
    this.sweeper.unref();
    this.drain();
  }

  load(): { connections: number; heldBytes: number } {
    return { connections: this.protocol.open.size, heldBytes: this.protocol.heldBytes };
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    clearInterval(this.sweeper);
    await this.poller.stop();
    for (const conn of [...this.protocol.open.values()]) this.protocol.destroy(conn);
    this.io.c.close(this.lfd);
    this.io.c.close(this.io.epfd);
  }

  // --- turns ---

  private drain(): void {
    if (this.state === "stopped") return;
    if (this.turn()) {
      setImmediate(this.next);
      return;
    }
    this.state = "waiting";
    this.poller.arm(this.onReadable);
  }

  private readonly next = (): void => this.drain();

  private readonly onReadable = (): void => {
    if (this.state !== "waiting") return;
    this.state = "draining";
    this.drain();
  };

  /** Accepts and reads what is ready, up to a batch of each; whether anything was. */
  private turn(): boolean {
    let did = this.acceptPaused ? 0 : this.acceptBatch();
    const protocol = this.protocol;
    const open = protocol.open;
    if (open.size > 0) {
      const io = this.io;
      const n = io.ready();
      for (let i = 0; i < n; i++) {
        const conn = open.get(io.eventFd(i));
        if (conn === undefined) continue; // the listening socket
        did++;
        const events = io.eventMask(i);
        if (events & EPOLLOUT) protocol.flush(conn);
        if (conn.state === "closed") continue;
        if (events & EPOLLIN) protocol.readFrom(conn);
        else if (events & (EPOLLERR | EPOLLHUP)) protocol.destroy(conn);
      }
    }
    return did > 0;
  }

  private acceptBatch(): number {
    const io = this.io;
    let n = 0;
    while (n < BATCH) {
      const fd = io.accept(this.lfd);
      if (fd < 0) {
        const e = errno(io.c);
        if (e === ECONNABORTED || e === EINTR) continue;
        if (e === EMFILE || e === ENFILE || e === ENOBUFS || e === ENOMEM) this.pauseAccepting();
        break;
      }
      n++;
      const address = io.peerAddress();
      if (address === "") io.c.close(fd);
      else this.protocol.accepted(fd, address);
    }
    return n;
  }

  /** Out of descriptors or memory: the listening socket stays readable, so it leaves the epoll set for a while. */
  private pauseAccepting(): void {
    this.acceptPaused = true;
    this.io.control(EPOLL_CTL_DEL, this.lfd, 0);
    setTimeout(() => {
      if (this.state === "stopped") return;
      this.acceptPaused = false;
      this.io.control(EPOLL_CTL_ADD, this.lfd, EPOLLIN);
    }, ACCEPT_PAUSE_MS);
  }
}
