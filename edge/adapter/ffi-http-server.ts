// The tracker's HTTP/1.1 server on raw syscalls through bun:ffi (Linux x86-64; opt-in, TRACKER_HTTP_FFI=1).
//
// Why: a client announces over a fresh TCP connection each time, and Bun.serve costs about as much CPU
// per connection as opentracker's whole announce (bench/tracker-http.ts's close mode: a bare Bun.serve
// 42-47 µs per request, opentracker 45-51, a bare listener like this one 27-32). Here a connection
// that brings one whole request costs four syscalls (accept4, recv, send, close) and no Bun object:
// TCP_DEFER_ACCEPT makes accept return it once the request has arrived, and a plain GET /announce is
// answered from its bytes (app.ts's PlainAnnouncer) without a Request or Response.
//
// Each turn accepts the connections waiting and reads the open ones epoll reports ready, up to a
// batch each; when nothing is ready, the UDP server's poller thread (bun-udp-poller.ts) blocks in
// poll() on the epoll set (which holds the listening socket too) and wakes this thread once.
//
// A connection that stays (keep-alive, a partial request, a pipelined one, an answer that waits for the
// store, a client slow to take its answer) gets a Connection object registered with epoll; answers go
// out in request order. Bounds: MAX_QUEUED answers per connection before reading stops, the codec's
// head and body limits per request, MAX_HELD_BYTES read or written but not yet handled over all
// connections, MAX_OPEN connections, and IDLE_MS without progress. A connection closed while its client
// may still be sending lingers first (LINGER_MS), so that the client is not reset before it reads.
import type { PlainAnnouncer } from "../app.ts";
import { parseIPv4, parseIPv6 } from "../../shared/compact.ts";
import { NO_HOST_ORIGIN } from "../request-url.ts";
import { isPlainAnnounce } from "../routes/plain-announce.ts";
import { POLLER_ARMED, POLLER_FLAGS, POLLER_READY, POLLER_STOP, type PollerData } from "./bun-udp-poller-state.ts";
import { encodeResponseHead, parseRequestHead, scanSimpleGet, type HeadError, type RequestHead } from "./http1-codec.ts";
import { httpDate, requestFromHead, type ConnectionInfo, type RequestHandler } from "./http1-connection.ts";
import { ipv6Text } from "./linux-mmsg.ts";
import {
  EAGAIN,
  ECONNABORTED,
  EINTR,
  EMFILE,
  ENFILE,
  ENOBUFS,
  ENOMEM,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLL_EVENT_BYTES,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  errno,
  listenTcp,
  MSG_NOSIGNAL,
  SHUT_WR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  TcpFfiError,
  tcpLibc,
  type TcpLibc,
} from "./linux-tcp.ts";
import { Worker } from "node:worker_threads";
import { ptr } from "bun:ffi";

/** Connections accepted, and epoll events taken, per turn at most. */
const BATCH = 128;
/** Bytes one recv takes at most; more waiting is read in the next turn. */
const RX_BYTES = 64 * 1024;
/** Answers up to this size are copied into one reused send buffer; longer ones are sent from their own. */
const TX_BYTES = 64 * 1024;
/** Answers waiting per connection (pipelined requests) before its reading stops. */
const MAX_QUEUED = 16;
/** Bytes held over all connections (unparsed requests, unsent answers) before a connection adding more is dropped. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** Open connections with state kept; a connection that would need one beyond this is closed. */
export const MAX_OPEN = 16384;
/** A connection that makes no progress (no whole request read, no answer byte taken) for this long is closed. */
export const IDLE_MS = 30_000;
const SWEEP_MS = 5_000;
/**
 * A connection closed while its client may still be sending (a refused request's body, requests after
 * a Connection: close) first lingers: our side is shut down and what arrives is read and dropped until
 * the client closes too, for at most this long and LINGER_BYTES. Closing with bytes unread would send
 * a reset, which can make the client lose the answer it has not read yet.
 */
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;
/** After accept failed for want of descriptors or memory, accepting pauses this long. */
const ACCEPT_PAUSE_MS = 100;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const latin1 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** ES2024's Atomics.waitAsync (Bun has it; this project's TypeScript library is ES2023). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: unknown } }).waitAsync;

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

/** One answer of a connection, in request order: its bytes once ready. */
interface Answer {
  bytes: Uint8Array | null;
  /** The connection ends once this answer is out. */
  close: boolean;
}

class Connection {
  /** Bytes of requests not yet parsed (a partial request, or pipelined ones past the queue's room). */
  pending: Uint8Array = EMPTY;
  readonly answers: Answer[] = [];
  /** Answer bytes the kernel did not take yet. */
  outbox: Uint8Array | null = null;
  /** false once no more requests are read: the client half-closed, asked to close, or sent garbage. */
  reading = true;
  /** The client half-closed: nothing more can arrive. */
  peerClosed = false;
  /** Bytes may arrive, or wait unread, after the last request read: closing lingers (LINGER_MS). */
  mayHaveUnread = false;
  /** Shut down on our side, reading and dropping until the client closes; bytes dropped so far. */
  lingering = false;
  dropped = 0;
  closed = false;
  /** The epoll events asked for; -1 while not in the epoll set. */
  interest = -1;
  lastProgress = 0;
  info: ConnectionInfo | null = null;

  constructor(
    readonly fd: number,
    readonly address: string,
  ) {}

  get held(): number {
    return this.pending.length + (this.outbox?.length ?? 0);
  }
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
    load: () => ({ connections: server.open.size, heldBytes: server.heldBytes }),
  };
}

class Server {
  readonly open = new Map<number, Connection>();
  heldBytes = 0;
  private readonly epfd: number;
  private state: State = "draining";
  private acceptPaused = false;
  private readonly flags = new Int32Array(new SharedArrayBuffer(POLLER_FLAGS * 4));
  private readonly poller: Worker;
  private readonly pollerStopped: Promise<void>;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly idleMs: number;
  // Every buffer the kernel reads or writes is a view of one ArrayBuffer made as such, whose storage
  // never moves (a small typed array made alone may move once its .buffer is first asked for, and a
  // pointer taken before then goes stale).
  private readonly arena = new ArrayBuffer(RX_BYTES + TX_BYTES + 64 + BATCH * EPOLL_EVENT_BYTES + 16);
  private readonly base: number;
  private readonly rx: Uint8Array;
  private readonly tx: Uint8Array;
  private readonly peer: Uint8Array;
  private readonly peerLength: Uint32Array;
  private readonly events: DataView;
  private readonly event: DataView;
  private readonly txAt: number;
  private readonly peerAt: number;
  private readonly peerLengthAt: number;
  private readonly eventsAt: number;
  private readonly eventAt: number;

  /** The head plain() is reading, for simpleHeader (only while that call runs). */
  private headBuf: Uint8Array = EMPTY;
  private headAt = 0;
  private headEnd = 0;
  /** A header of that head (read only where proxies are trusted): parsed in full then. */
  private readonly simpleHeader = (name: string): string | undefined => {
    const result = parseRequestHead(this.headBuf, this.headAt, this.headEnd);
    return "head" in result ? headerOf(result.head, name) : undefined;
  };

  constructor(
    private readonly c: TcpLibc,
    private readonly lfd: number,
    private readonly opts: FfiHttpOptions,
  ) {
    const a = this.arena;
    this.base = ptr(new Uint8Array(a));
    this.rx = new Uint8Array(a, 0, RX_BYTES);
    this.tx = new Uint8Array(a, RX_BYTES, TX_BYTES);
    this.txAt = this.base + RX_BYTES;
    const peerOffset = RX_BYTES + TX_BYTES;
    this.peer = new Uint8Array(a, peerOffset, 28);
    this.peerAt = this.base + peerOffset;
    this.peerLength = new Uint32Array(a, peerOffset + 32, 1);
    this.peerLengthAt = this.base + peerOffset + 32;
    const eventsOffset = peerOffset + 64;
    this.events = new DataView(a, eventsOffset, BATCH * EPOLL_EVENT_BYTES);
    this.eventsAt = this.base + eventsOffset;
    this.event = new DataView(a, eventsOffset + BATCH * EPOLL_EVENT_BYTES, EPOLL_EVENT_BYTES);
    this.eventAt = this.eventsAt + BATCH * EPOLL_EVENT_BYTES;

    this.epfd = c.epoll_create1(SOCK_CLOEXEC);
    if (this.epfd < 0) {
      c.close(lfd);
      throw new TcpFfiError("socket", `epoll_create1 failed, errno ${errno(c)}`);
    }
    // The listening socket is in the set only so that the poller wakes for it.
    this.control(EPOLL_CTL_ADD, lfd, EPOLLIN);
    const data: PollerData = { fd: this.epfd, state: this.flags.buffer as SharedArrayBuffer };
    this.poller = new Worker(new URL("./bun-udp-poller.ts", import.meta.url), { workerData: data });
    this.pollerStopped = new Promise((resolve) => this.poller.once("exit", () => resolve()));
    this.poller.on("error", (err) => opts.onHandlerError(err));
    this.idleMs = opts.idleMs ?? IDLE_MS;
    this.sweeper = setInterval(() => this.sweep(), Math.min(SWEEP_MS, this.idleMs / 2));
    this.sweeper.unref();
    this.drain();
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    clearInterval(this.sweeper);
    Atomics.store(this.flags, POLLER_STOP, 1);
    Atomics.notify(this.flags, POLLER_ARMED);
    Atomics.notify(this.flags, POLLER_READY);
    await this.pollerStopped;
    for (const conn of [...this.open.values()]) this.destroy(conn);
    this.c.close(this.lfd);
    this.c.close(this.epfd);
  }

  // --- turns ---

  private drain(): void {
    if (this.state === "stopped") return;
    if (this.turn()) {
      setImmediate(this.next);
      return;
    }
    this.state = "waiting";
    Atomics.store(this.flags, POLLER_READY, 0);
    Atomics.store(this.flags, POLLER_ARMED, 1);
    Atomics.notify(this.flags, POLLER_ARMED);
    const woken = waitAsync(this.flags, POLLER_READY, 0);
    if (woken.async) (woken.value as Promise<unknown>).then(this.onReadable);
    else this.onReadable();
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
    if (this.open.size > 0) {
      const n = this.c.epoll_wait(this.epfd, this.eventsAt, BATCH, 0);
      const ev = this.events;
      for (let i = 0; i < n; i++) {
        const fd = ev.getInt32(i * EPOLL_EVENT_BYTES + 4, true);
        const conn = this.open.get(fd);
        if (conn === undefined) continue; // the listening socket
        did++;
        const events = ev.getUint32(i * EPOLL_EVENT_BYTES, true);
        if (events & EPOLLOUT) this.flush(conn);
        if (conn.closed) continue;
        if (events & EPOLLIN) this.readFrom(conn);
        else if (events & (EPOLLERR | EPOLLHUP)) this.destroy(conn);
      }
    }
    return did > 0;
  }

  private acceptBatch(): number {
    const c = this.c;
    let n = 0;
    while (n < BATCH) {
      this.peerLength[0] = 28;
      const fd = c.accept4(this.lfd, this.peerAt, this.peerLengthAt, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const e = errno(c);
        if (e === ECONNABORTED || e === EINTR) continue;
        if (e === EMFILE || e === ENFILE || e === ENOBUFS || e === ENOMEM) this.pauseAccepting();
        break;
      }
      n++;
      const address = this.peerAddress();
      const conn = new Connection(fd, address);
      conn.lastProgress = Date.now();
      if (address === "") this.destroy(conn);
      else this.readFrom(conn);
    }
    return n;
  }

  /** Out of descriptors or memory: the listening socket stays readable, so it leaves the epoll set for a while. */
  private pauseAccepting(): void {
    this.acceptPaused = true;
    this.control(EPOLL_CTL_DEL, this.lfd, 0);
    setTimeout(() => {
      if (this.state === "stopped") return;
      this.acceptPaused = false;
      this.control(EPOLL_CTL_ADD, this.lfd, EPOLLIN);
    }, ACCEPT_PAUSE_MS);
  }

  private peerAddress(): string {
    const p = this.peer;
    const family = p[0]! | (p[1]! << 8);
    if (family === 2) return `${p[4]}.${p[5]}.${p[6]}.${p[7]}`;
    if (family === 10) return ipv6Text(p.subarray(8, 24));
    return "";
  }

  // --- a connection ---

  private readFrom(conn: Connection): void {
    const n = this.c.recv(conn.fd, this.base, RX_BYTES, 0);
    if (conn.lingering) {
      if (n > 0 && (conn.dropped += n) <= LINGER_BYTES) return;
      if (n < 0) {
        const e = errno(this.c);
        if (e === EAGAIN || e === EINTR) return;
      }
      return this.destroy(conn); // the client closed (or failed, or sent too much)
    }
    if (n > 0) {
      this.feed(conn, n);
    } else if (n === 0) {
      conn.reading = false; // the client half-closed: what it sent is still answered
      conn.peerClosed = true;
      this.dropPending(conn);
    } else {
      const e = errno(this.c);
      if (e !== EAGAIN && e !== EINTR) return this.destroy(conn);
    }
    this.pump(conn);
  }

  /** `n` new bytes of `conn` in rx. */
  private feed(conn: Connection, n: number): void {
    if (!conn.reading) {
      conn.mayHaveUnread = true; // nothing after the last request is read
      return;
    }
    let buf: Uint8Array;
    let end: number;
    if (conn.pending.length === 0) {
      buf = this.rx;
      end = n;
    } else {
      buf = new Uint8Array(conn.pending.length + n);
      buf.set(conn.pending);
      buf.set(this.rx.subarray(0, n), conn.pending.length);
      end = buf.length;
      this.heldBytes -= conn.pending.length;
      conn.pending = EMPTY;
    }
    const used = this.parse(conn, buf, end);
    if (used < end && !conn.reading) conn.mayHaveUnread = true;
    if (used < end && conn.reading) {
      // Kept for later: a copy, since rx is read into again next time.
      const rest = buf === this.rx ? buf.slice(used, end) : buf.subarray(used, end);
      if (this.heldBytes + rest.length > MAX_HELD_BYTES) return this.destroy(conn);
      conn.pending = rest;
      this.heldBytes += rest.length;
    }
  }

  /** Parses the requests in buf[0..end) into answers while there is room; the bytes used. */
  private parse(conn: Connection, buf: Uint8Array, end: number): number {
    let offset = 0;
    const plain = this.opts.plain;
    while (conn.reading && conn.answers.length < MAX_QUEUED && offset < end) {
      // Nearly every request: a plain announce with a simple head, answered without parsing it further.
      const simple = plain === undefined ? null : scanSimpleGet(buf, offset, end);
      if (simple !== null && isPlainAnnounce(simple.target)) {
        conn.lastProgress = Date.now();
        this.headBuf = buf;
        this.headAt = offset;
        this.headEnd = offset + simple.size;
        const reply = plain!(simple.target, conn.address, this.simpleHeader);
        this.headBuf = EMPTY;
        if (reply instanceof Uint8Array) conn.answers.push({ bytes: bencodedReply(reply, !simple.keepAlive, simple.version), close: !simple.keepAlive });
        else this.later(conn, reply, "GET", simple.version, !simple.keepAlive);
        offset += simple.size;
        if (!simple.keepAlive) conn.reading = false;
        continue;
      }
      const result = parseRequestHead(buf, offset, end);
      if ("incomplete" in result) break;
      if ("error" in result) {
        this.refuse(conn, result.error);
        break;
      }
      const bodyStart = offset + result.size;
      const bodyEnd = bodyStart + result.head.bodyLength;
      if (bodyEnd > end) break;
      conn.lastProgress = Date.now();
      this.answer(conn, result.head, buf.subarray(bodyStart, bodyEnd));
      offset = bodyEnd;
      if (!result.head.keepAlive) conn.reading = false;
    }
    return offset;
  }

  private refuse(conn: Connection, error: HeadError): void {
    conn.reading = false;
    conn.mayHaveUnread = true; // the rest of what it sends, a body say, may still be coming
    const body = encoder.encode(`${error.reason}\n`);
    const head = encodeResponseHead(error.status, new Headers({ "content-type": "text/plain" }), body.length, {
      close: true,
      version: "1.1",
      date: httpDate(),
    });
    conn.answers.push({ bytes: join(encoder.encode(head), body), close: true });
  }

  /** Queues the answer to one request: at once for a plain announce the store answers at once, else when ready. */
  private answer(conn: Connection, head: RequestHead, body: Uint8Array): void {
    const close = !head.keepAlive;
    const plain = this.opts.plain;
    if (plain !== undefined && head.method === "GET" && isPlainAnnounce(head.target)) {
      const reply = plain(head.target, conn.address, (name) => headerOf(head, name));
      if (reply instanceof Uint8Array) {
        conn.answers.push({ bytes: bencodedReply(reply, close, head.version), close });
        return;
      }
      return this.later(conn, reply, head.method, head.version, close);
    }
    let request: Request;
    try {
      // The body is copied: rx is read into again.
      request = requestFromHead(head, body.slice(), NO_HOST_ORIGIN);
    } catch {
      // A method or header value the Fetch API refuses: refused like an unparsable request.
      return this.refuse(conn, { status: 400, reason: "request not supported" });
    }
    conn.info ??= { remoteAddress: conn.address };
    let response: Response | Promise<Response>;
    try {
      response = this.opts.handler(request, conn.info);
    } catch (error) {
      response = Promise.reject(error);
    }
    this.later(conn, response, head.method, head.version, close);
  }

  private later(conn: Connection, response: Response | Promise<Response>, method: string, version: "1.0" | "1.1", close: boolean): void {
    const slot: Answer = { bytes: null, close };
    conn.answers.push(slot);
    // While the answer is computed the client is not read from: something may wait unread.
    if (close) conn.mayHaveUnread = true;
    void responseBytes(response, method, version, close, this.opts.onHandlerError).then((bytes) => {
      slot.bytes = bytes;
      if (!conn.closed) this.pump(conn);
    });
  }

  /** Writes the answers that are ready, in order, then settles what the connection waits for. */
  private pump(conn: Connection): void {
    const answers = conn.answers;
    for (;;) {
      while (!conn.closed && answers.length > 0 && answers[0]!.bytes !== null) {
        const a = answers.shift()!;
        this.write(conn, a.bytes!);
        if (a.close) {
          conn.reading = false;
          answers.length = 0;
        }
      }
      if (conn.closed) return;
      // Requests that waited behind a full queue, while the client takes its answers.
      if (!conn.reading || conn.pending.length === 0 || answers.length >= MAX_QUEUED || conn.outbox !== null) break;
      const pending = conn.pending;
      this.heldBytes -= pending.length;
      conn.pending = EMPTY;
      const used = this.parse(conn, pending, pending.length);
      if (used < pending.length && conn.reading) {
        conn.pending = pending.subarray(used);
        this.heldBytes += conn.pending.length;
      }
      if (used === 0 || answers.length === 0 || answers[0]!.bytes === null) break;
    }
    this.settle(conn);
  }

  private write(conn: Connection, bytes: Uint8Array): void {
    if (conn.outbox !== null) {
      if (this.heldBytes + bytes.length > MAX_HELD_BYTES) return this.destroy(conn);
      conn.outbox = join(conn.outbox, bytes);
      this.heldBytes += bytes.length;
      return;
    }
    const sent = this.send(conn.fd, bytes);
    if (sent < 0) return this.destroy(conn);
    if (sent > 0) conn.lastProgress = Date.now();
    if (sent < bytes.length) {
      if (this.heldBytes + bytes.length - sent > MAX_HELD_BYTES) return this.destroy(conn);
      conn.outbox = bytes.slice(sent);
      this.heldBytes += conn.outbox.length;
    }
  }

  /** Bytes the kernel took (0 when its buffer is full), or -1 when the connection failed. */
  private send(fd: number, bytes: Uint8Array): number {
    let at: number;
    if (bytes.length <= TX_BYTES) {
      this.tx.set(bytes);
      at = this.txAt;
    } else {
      at = ptr(bytes); // used at once, before anything can move it
    }
    const sent = this.c.send(fd, at, bytes.length, MSG_NOSIGNAL);
    if (sent >= 0) return sent;
    const e = errno(this.c);
    return e === EAGAIN || e === EINTR ? 0 : -1;
  }

  /** The client can take more: what waited goes out. */
  private flush(conn: Connection): void {
    const out = conn.outbox;
    if (out === null) return;
    const sent = this.send(conn.fd, out);
    if (sent < 0) return this.destroy(conn);
    if (sent > 0) conn.lastProgress = Date.now();
    this.heldBytes -= sent;
    conn.outbox = sent === out.length ? null : out.subarray(sent);
    this.pump(conn);
  }

  /** Closes a connection that is done, or asks epoll for what it waits for. */
  private settle(conn: Connection): void {
    if (!conn.reading && conn.answers.length === 0 && conn.outbox === null && !conn.lingering) {
      if (!conn.mayHaveUnread || conn.peerClosed) return this.destroy(conn);
      this.c.shutdown(conn.fd, SHUT_WR);
      conn.lingering = true;
      conn.lastProgress = Date.now();
    }
    let want = 0;
    if (conn.lingering) want = EPOLLIN;
    else if (conn.outbox !== null) want = EPOLLOUT;
    else if (conn.reading && conn.answers.length < MAX_QUEUED) want = EPOLLIN;
    if (want === conn.interest) return;
    if (conn.interest < 0) {
      if (this.open.size >= MAX_OPEN) return this.destroy(conn);
      this.open.set(conn.fd, conn);
      this.control(EPOLL_CTL_ADD, conn.fd, want);
    } else {
      this.control(EPOLL_CTL_MOD, conn.fd, want);
    }
    conn.interest = want;
  }

  private control(op: number, fd: number, events: number): void {
    const e = this.event;
    e.setUint32(0, events, true);
    e.setInt32(4, fd, true);
    e.setInt32(8, 0, true);
    this.c.epoll_ctl(this.epfd, op, fd, this.eventAt);
  }

  private dropPending(conn: Connection): void {
    this.heldBytes -= conn.pending.length;
    conn.pending = EMPTY;
  }

  private destroy(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.heldBytes -= conn.held;
    conn.pending = EMPTY;
    conn.outbox = null;
    conn.answers.length = 0;
    if (conn.interest >= 0) this.open.delete(conn.fd);
    // close() also takes it out of the epoll set.
    this.c.close(conn.fd);
  }

  /** Closes connections that made no progress for idleMs, unless an answer is being computed for them. */
  private sweep(): void {
    const now = Date.now();
    for (const conn of [...this.open.values()]) {
      const computing = conn.answers.length > 0 && conn.outbox === null;
      const limit = conn.lingering ? Math.min(LINGER_MS, this.idleMs) : this.idleMs;
      if (conn.lastProgress < now - limit && !computing) this.destroy(conn);
    }
  }
}

function headerOf(head: RequestHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of head.headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// The head of a bencoded 200 (the headers bencodeOk gives), remade once a second for its Date.
let okDate = "";
let okHead = EMPTY;
const CONTENT_LENGTH = latin1("content-length: ");
const CLOSE_END = latin1("\r\nconnection: close\r\n\r\n");
const KEEP_ALIVE_10_END = latin1("\r\nconnection: keep-alive\r\n\r\n");
const END = latin1("\r\n\r\n");

function bencodedReply(body: Uint8Array, close: boolean, version: "1.0" | "1.1"): Uint8Array {
  const date = httpDate();
  if (date !== okDate) {
    okDate = date;
    okHead = latin1(`HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=binary\r\ncache-control: no-store\r\ndate: ${date}\r\n`);
  }
  const length = String(body.length);
  const end = close ? CLOSE_END : version === "1.0" ? KEEP_ALIVE_10_END : END;
  const out = new Uint8Array(okHead.length + CONTENT_LENGTH.length + length.length + end.length + body.length);
  out.set(okHead);
  let at = okHead.length;
  out.set(CONTENT_LENGTH, at);
  at += CONTENT_LENGTH.length;
  for (let i = 0; i < length.length; i++) out[at++] = length.charCodeAt(i);
  out.set(end, at);
  out.set(body, at + end.length);
  return out;
}

/** A Response (or its promise) as bytes to send; an error becomes a 500, as http1-connection.ts answers it. */
async function responseBytes(
  pending: Response | Promise<Response>,
  method: string,
  version: "1.0" | "1.1",
  close: boolean,
  onError: (error: unknown) => void,
): Promise<Uint8Array> {
  let response: Response;
  let body: Uint8Array;
  try {
    response = await pending;
    body = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    onError(error);
    response = new Response(null, { status: 500, headers: { "content-type": "text/plain" } });
    body = encoder.encode("internal server error\n");
  }
  const text = encodeResponseHead(response.status, response.headers, body.length, { close, version, date: httpDate() });
  return join(encoder.encode(text), method === "HEAD" ? EMPTY : body);
}
