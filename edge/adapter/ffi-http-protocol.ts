// The HTTP/1.1 protocol of the server on raw syscalls (ffi-http-server.ts), per connection: requests
// read into answers, answers written in request order, and what the connection then waits for asked
// of epoll (or it is closed).
//
// A connection that stays (keep-alive, a partial request, a pipelined one, an answer that waits for the
// store, a client slow to take its answer) gets a Connection object registered with epoll. Bounds:
// MAX_QUEUED answers per connection before reading stops, the codec's head and body limits per request,
// MAX_HELD_BYTES read or written but not yet handled over all connections, MAX_OPEN connections, and
// idleMs without progress. A connection closed while its client may still be sending lingers first
// (LINGER_MS), so that the client is not reset before it reads.
import type { PlainAnnouncer } from "../app.ts";
import { NO_HOST_ORIGIN } from "../request-url.ts";
import { isPlainAnnounce } from "../routes/plain-announce.ts";
import { parseRequestHead, scanSimpleGet, type HeadError, type RequestHead } from "./http1-codec.ts";
import { type Answer, Connection } from "./ffi-http-connection.ts";
import { requestFromHead, type RequestHandler } from "./http1-connection.ts";
import { bencodedReply, bencodedReplyInto, headerOf, join, refusalBytes, responseBytes } from "./http1-reply.ts";
import { EAGAIN, EINTR, EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLLIN, EPOLLOUT, errno, MSG_MORE, SHUT_WR } from "./linux-tcp.ts";
import type { TcpIo } from "./linux-tcp-io.ts";

/** Answers waiting per connection (pipelined requests) before its reading stops. */
const MAX_QUEUED = 16;
/** Bytes held over all connections (unparsed requests, unsent answers) before a connection adding more is dropped. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** Open connections with state kept; a connection that would need one beyond this is closed. */
export const MAX_OPEN = 16384;
/**
 * A connection closed while its client may still be sending (a refused request's body, requests after
 * a Connection: close) first lingers: our side is shut down and what arrives is read and dropped until
 * the client closes too, for at most this long and LINGER_BYTES. Closing with bytes unread would send
 * a reset, which can make the client lose the answer it has not read yet.
 */
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);
/** Room an answer's head takes in tx beyond its body (bencodedReply's head is about 150 bytes). */
const TX_HEAD_ROOM = 512;

/** What the protocol needs of the server's options. */
export interface ProtocolOptions {
  handler: RequestHandler;
  plain: PlainAnnouncer | undefined;
  onHandlerError: (error: unknown) => void;
}

/** Every connection with state kept, and the protocol that drives them. */
export class Http1Protocol {
  /** By descriptor: the connections in the epoll set. */
  readonly open = new Map<number, Connection>();
  heldBytes = 0;

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
    private readonly io: TcpIo,
    private readonly opts: ProtocolOptions,
    private readonly idleMs: number,
  ) {}

  /**
   * A connection accept just took (`address` its peer): read, and answered at once when it brought one
   * whole plain announce asking to close (one announce per connection, as clients announce), with no
   * object kept for it; anything else goes the way of readFrom.
   */
  accepted(fd: number, address: string): void {
    const io = this.io;
    const n = io.recv(fd);
    const e = n < 0 ? errno(io.c) : 0;
    const plain = this.opts.plain;
    if (n > 0 && plain !== undefined) {
      const rx = io.rx;
      const simple = scanSimpleGet(rx, 0, n);
      if (simple !== null && !simple.keepAlive && simple.size === n && isPlainAnnounce(simple.target)) {
        const reply = this.plainReply(plain, rx, 0, simple.size, simple.target, address);
        if (reply instanceof Uint8Array && reply.length + TX_HEAD_ROOM <= io.tx.length) {
          const length = bencodedReplyInto(io.tx, reply, true, simple.version);
          const sent = io.sendTx(fd, length, MSG_MORE);
          if (sent === length) {
            io.c.close(fd);
            return;
          }
          // The kernel took part of it, or the connection failed: it is kept (or closed) as any other.
          const conn = this.answering(fd, address);
          if (sent < 0) return this.destroy(conn);
          if (this.heldBytes + length - sent > MAX_HELD_BYTES) return this.destroy(conn);
          conn.outbox = io.tx.slice(sent, length);
          this.heldBytes += conn.outbox.length;
          return this.settle(conn);
        }
        const conn = this.answering(fd, address);
        if (reply instanceof Uint8Array) conn.answers.push({ bytes: bencodedReply(reply, true, simple.version), close: true });
        else this.later(conn, reply, "GET", simple.version, true);
        return this.pump(conn);
      }
    }
    const conn = new Connection(fd, address);
    conn.lastProgress = Date.now();
    this.received(conn, n, e);
  }

  /** A Connection for `fd`, whose one request was read whole and is being answered. */
  private answering(fd: number, address: string): Connection {
    const conn = new Connection(fd, address);
    conn.lastProgress = Date.now();
    conn.state = "answering";
    return conn;
  }

  /** Reads what `conn` sent, answers what can be, and settles it. */
  readFrom(conn: Connection): void {
    const io = this.io;
    const n = io.recv(conn.fd);
    this.received(conn, n, n < 0 ? errno(io.c) : 0);
  }

  /** recv for `conn` answered `n` (and, when negative, errno `e`). */
  private received(conn: Connection, n: number, e: number): void {
    if (conn.state === "lingering") {
      if (n > 0 && (conn.dropped += n) <= LINGER_BYTES) return;
      if (n < 0 && (e === EAGAIN || e === EINTR)) return;
      return this.destroy(conn); // the client closed (or failed, or sent too much)
    }
    if (n > 0) {
      this.feed(conn, n);
    } else if (n === 0) {
      conn.state = "answering"; // the client half-closed: what it sent is still answered
      conn.peerClosed = true;
      this.dropPending(conn);
    } else if (e !== EAGAIN && e !== EINTR) {
      return this.destroy(conn);
    }
    this.pump(conn);
  }

  /** The plain announcer's answer to the simple head buf[at..at+size) for `target`. */
  private plainReply(plain: PlainAnnouncer, buf: Uint8Array, at: number, size: number, target: string, address: string): ReturnType<PlainAnnouncer> {
    this.headBuf = buf;
    this.headAt = at;
    this.headEnd = at + size;
    const reply = plain(target, address, this.simpleHeader);
    this.headBuf = EMPTY;
    return reply;
  }

  /** `n` new bytes of `conn` in rx. */
  private feed(conn: Connection, n: number): void {
    if (conn.state !== "reading") {
      conn.mayHaveUnread = true; // nothing after the last request is read
      return;
    }
    const rx = this.io.rx;
    let buf: Uint8Array;
    let end: number;
    if (conn.pending.length === 0) {
      buf = rx;
      end = n;
    } else {
      buf = new Uint8Array(conn.pending.length + n);
      buf.set(conn.pending);
      buf.set(rx.subarray(0, n), conn.pending.length);
      end = buf.length;
      this.heldBytes -= conn.pending.length;
      conn.pending = EMPTY;
    }
    const used = this.parse(conn, buf, end);
    if (used < end && conn.state !== "reading") conn.mayHaveUnread = true;
    if (used < end && conn.state === "reading") {
      // Kept for later: a copy, since rx is read into again next time.
      const rest = buf === rx ? buf.slice(used, end) : buf.subarray(used, end);
      if (this.heldBytes + rest.length > MAX_HELD_BYTES) return this.destroy(conn);
      conn.pending = rest;
      this.heldBytes += rest.length;
    }
  }
  /** Parses the requests in buf[0..end) into answers while there is room; the bytes used. */
  private parse(conn: Connection, buf: Uint8Array, end: number): number {
    let offset = 0;
    const plain = this.opts.plain;
    while (conn.state === "reading" && conn.answers.length < MAX_QUEUED && offset < end) {
      // Nearly every request: a plain announce with a simple head, answered without parsing it further.
      const simple = plain === undefined ? null : scanSimpleGet(buf, offset, end);
      if (simple !== null && isPlainAnnounce(simple.target)) {
        conn.lastProgress = Date.now();
        const reply = this.plainReply(plain!, buf, offset, simple.size, simple.target, conn.address);
        if (reply instanceof Uint8Array) conn.answers.push({ bytes: bencodedReply(reply, !simple.keepAlive, simple.version), close: !simple.keepAlive });
        else this.later(conn, reply, "GET", simple.version, !simple.keepAlive);
        offset += simple.size;
        if (!simple.keepAlive) conn.state = "answering";
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
      if (!result.head.keepAlive) conn.state = "answering";
    }
    return offset;
  }

  private refuse(conn: Connection, error: HeadError): void {
    conn.state = "answering";
    conn.mayHaveUnread = true; // the rest of what it sends, a body say, may still be coming
    conn.answers.push({ bytes: refusalBytes(error.status, error.reason), close: true });
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
      if (conn.state !== "closed") this.pump(conn);
    });
  }

  /** Writes the answers that are ready, in order, then settles what the connection waits for. */
  private pump(conn: Connection): void {
    const answers = conn.answers;
    for (;;) {
      while (conn.state !== "closed" && answers.length > 0 && answers[0]!.bytes !== null) {
        const a = answers.shift()!;
        this.write(conn, a.bytes!, a.close);
        if (a.close) {
          if (conn.state === "reading") conn.state = "answering"; // not when the write closed it
          answers.length = 0;
        }
      }
      if (conn.state === "closed") return;
      // Requests that waited behind a full queue, while the client takes its answers.
      if (conn.state !== "reading" || conn.pending.length === 0 || answers.length >= MAX_QUEUED || conn.outbox !== null) break;
      const pending = conn.pending;
      this.heldBytes -= pending.length;
      conn.pending = EMPTY;
      const used = this.parse(conn, pending, pending.length);
      if (used < pending.length && conn.state === "reading") {
        conn.pending = pending.subarray(used);
        this.heldBytes += conn.pending.length;
      }
      if (used === 0 || answers.length === 0 || answers[0]!.bytes === null) break;
    }
    this.settle(conn);
  }

  /** `last`: the connection ends after these bytes (its FIN may ride in their last segment: see MSG_MORE). */
  private write(conn: Connection, bytes: Uint8Array, last: boolean): void {
    if (conn.outbox !== null) {
      if (this.heldBytes + bytes.length > MAX_HELD_BYTES) return this.destroy(conn);
      conn.outbox = join(conn.outbox, bytes);
      this.heldBytes += bytes.length;
      return;
    }
    const sent = this.io.send(conn.fd, bytes, last ? MSG_MORE : 0);
    if (sent < 0) return this.destroy(conn);
    if (sent > 0) conn.lastProgress = Date.now();
    if (sent < bytes.length) {
      if (this.heldBytes + bytes.length - sent > MAX_HELD_BYTES) return this.destroy(conn);
      conn.outbox = bytes.slice(sent);
      this.heldBytes += conn.outbox.length;
    }
  }

  /** The client can take more: what waited goes out. */
  flush(conn: Connection): void {
    const out = conn.outbox;
    if (out === null) return;
    const sent = this.io.send(conn.fd, out);
    if (sent < 0) return this.destroy(conn);
    if (sent > 0) conn.lastProgress = Date.now();
    this.heldBytes -= sent;
    conn.outbox = sent === out.length ? null : out.subarray(sent);
    this.pump(conn);
  }

  /** Closes a connection that is done, or asks epoll for what it waits for. */
  private settle(conn: Connection): void {
    if (conn.state === "answering" && conn.answers.length === 0 && conn.outbox === null) {
      if (!conn.mayHaveUnread || conn.peerClosed) return this.destroy(conn);
      this.io.c.shutdown(conn.fd, SHUT_WR);
      conn.state = "lingering";
      conn.lastProgress = Date.now();
    }
    let want = 0;
    if (conn.state === "lingering") want = EPOLLIN;
    else if (conn.outbox !== null) want = EPOLLOUT;
    else if (conn.state === "reading" && conn.answers.length < MAX_QUEUED) want = EPOLLIN;
    if (want === conn.interest) return;
    if (conn.interest < 0) {
      if (this.open.size >= MAX_OPEN) return this.destroy(conn);
      this.open.set(conn.fd, conn);
      this.io.control(EPOLL_CTL_ADD, conn.fd, want);
    } else {
      this.io.control(EPOLL_CTL_MOD, conn.fd, want);
    }
    conn.interest = want;
  }

  private dropPending(conn: Connection): void {
    this.heldBytes -= conn.pending.length;
    conn.pending = EMPTY;
  }

  destroy(conn: Connection): void {
    if (conn.state === "closed") return;
    conn.state = "closed";
    this.heldBytes -= conn.held;
    conn.pending = EMPTY;
    conn.outbox = null;
    conn.answers.length = 0;
    if (conn.interest >= 0) this.open.delete(conn.fd);
    // close() also takes it out of the epoll set.
    this.io.c.close(conn.fd);
  }

  /** Closes connections that made no progress for idleMs, unless an answer is being computed for them. */
  sweep(): void {
    const now = Date.now();
    for (const conn of [...this.open.values()]) {
      const computing = conn.answers.length > 0 && conn.outbox === null;
      const limit = conn.state === "lingering" ? Math.min(LINGER_MS, this.idleMs) : this.idleMs;
      if (conn.lastProgress < now - limit && !computing) this.destroy(conn);
    }
  }
}
