// One HTTP/1.x connection of the tracker's own server on Bun: requests are read as they come
// (pipelined ones queue), answered one at a time in order, and a client's half-close ends the reading,
// not the answering. The bytes are parsed by http1-codec.ts, never here.
import type { Socket } from "bun";
import { encodeResponseHead, parseRequestHead, type HeadError, type RequestHead } from "./http1-codec.ts";

/** What the handler learns about the connection (passed to the app as its `env`). */
export interface ConnectionInfo {
  remoteAddress: string;
}

export type RequestHandler = (request: Request, info: ConnectionInfo) => Response | Promise<Response>;

type Queued = { head: RequestHead; body: Uint8Array } | { error: HeadError };

/**
 * reading: requests are parsed as bytes arrive.
 * draining: no more requests will be read (the client half-closed, asked to close, or sent
 *   something unframeable); the queued ones are answered, then the connection ends.
 * closing: the last response is being flushed.
 * closed: the socket is gone.
 */
type State = "reading" | "draining" | "closing" | "closed";

/** Pipelined requests parsed ahead of the one being answered; more wait unparsed in the buffer. */
const MAX_QUEUED = 16;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** The Date header's text, made at most once a second. */
let dateText = "";
let dateSecond = -1;
export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

export class Http1Connection {
  private state: State = "reading";
  private buffer: Uint8Array = EMPTY;
  private readonly queue: Queued[] = [];
  private answering = false;
  /** Bytes the kernel did not take yet (Bun's write may be partial); sent on drain. */
  private outbox: Uint8Array | null = null;
  private readingPaused = false;

  constructor(
    private readonly socket: Socket<Http1Connection>,
    private readonly handler: RequestHandler,
    private readonly info: ConnectionInfo,
    private readonly noHostOrigin: string,
    private readonly onHandlerError: (error: unknown) => void,
  ) {}

  /** Bytes read from the client and not yet answered (unparsed, and queued bodies) or not yet sent. */
  get heldBytes(): number {
    let n = this.buffer.length + (this.outbox?.length ?? 0);
    for (const q of this.queue) if ("body" in q) n += q.body.length;
    return n;
  }

  /** Whether reading from the client is stopped (see `flowControl`). */
  get paused(): boolean {
    return this.readingPaused;
  }

  onData(chunk: Uint8Array): void {
    if (this.state !== "reading") return; // nothing after the last request is read
    if (this.buffer.length === 0) {
      this.buffer = chunk;
    } else {
      const joined = new Uint8Array(this.buffer.length + chunk.length);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.length);
      this.buffer = joined;
    }
    this.parse();
    // Bun's chunk is not ours to keep past this call: a partial request left in it is copied.
    if (this.buffer.buffer === chunk.buffer) this.buffer = this.buffer.slice();
    this.pump();
    this.flowControl();
  }

  /** The client half-closed: what it sent is still answered. */
  onEnd(): void {
    if (this.state === "reading") this.state = "draining";
    this.pump();
  }

  onDrain(): void {
    const rest = this.outbox;
    this.outbox = null;
    if (rest) this.write(rest);
    if (this.state === "closing" && !this.outbox) this.socket.end();
    this.flowControl();
  }

  onClose(): void {
    this.state = "closed";
    this.queue.length = 0;
    this.outbox = null;
  }

  /** Idle timeout: only a connection waiting for its client is dropped, never one being answered. */
  onTimeout(): void {
    if (!this.answering && this.queue.length === 0) this.socket.end();
  }

  private parse(): void {
    let offset = 0;
    while (this.state === "reading" && this.queue.length < MAX_QUEUED && offset < this.buffer.length) {
      const result = parseRequestHead(this.buffer, offset, this.buffer.length);
      if ("incomplete" in result) break;
      if ("error" in result) {
        this.queue.push({ error: result.error });
        this.state = "draining";
        break;
      }
      const bodyStart = offset + result.size;
      const bodyEnd = bodyStart + result.head.bodyLength;
      if (bodyEnd > this.buffer.length) break;
      this.queue.push({ head: result.head, body: this.buffer.slice(bodyStart, bodyEnd) });
      offset = bodyEnd;
      if (!result.head.keepAlive) this.state = "draining";
    }
    this.buffer = this.state === "reading" ? this.buffer.subarray(offset) : EMPTY;
  }

  private pump(): void {
    if (this.answering || this.state === "closing" || this.state === "closed") return;
    const next = this.queue.shift();
    if (!next) {
      if (this.state === "draining") this.finish();
      return;
    }
    this.answering = true;
    void this.answer(next).then(() => {
      this.answering = false;
      if (this.state === "reading") this.parse(); // requests that waited behind a full queue
      this.pump();
      this.flowControl();
    });
  }

  /**
   * Reading stops while MAX_QUEUED requests wait, or while answers wait for the client to take them,
   * and resumes when there is room: a client pipelining faster than it is answered, or not reading
   * its answers, is held back by TCP instead of filling this process (it took 32 MB in as fast as it
   * sent them, and would have taken any amount).
   */
  private flowControl(): void {
    const full = this.state === "reading" && (this.queue.length >= MAX_QUEUED || this.outbox !== null);
    if (full === this.readingPaused || this.state === "closed") return;
    this.readingPaused = full;
    if (full) this.socket.pause();
    else this.socket.resume();
  }

  private async answer(next: Queued): Promise<void> {
    const date = httpDate();
    if ("error" in next) {
      const body = encoder.encode(`${next.error.reason}\n`);
      const headers = new Headers({ "content-type": "text/plain" });
      this.send(encodeResponseHead(next.error.status, headers, body.length, { close: true, version: "1.1", date }), body);
      return;
    }
    const { head } = next;
    let request: Request;
    try {
      request = requestFromHead(head, next.body, this.noHostOrigin);
    } catch {
      // A method or header value the Fetch API refuses: refused like an unparsable request, and
      // like one, nothing after it is answered.
      this.state = "draining";
      this.queue.length = 0;
      return this.answer({ error: { status: 400, reason: "request not supported" } });
    }
    let response: Response;
    let body: Uint8Array;
    try {
      response = await this.handler(request, this.info);
      body = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      this.onHandlerError(error);
      response = new Response(null, { status: 500, headers: { "content-type": "text/plain" } });
      body = encoder.encode("internal server error\n");
    }
    if (this.state === "closed") return;
    const close = !head.keepAlive;
    const headBytes = encodeResponseHead(response.status, response.headers, body.length, { close, version: head.version, date });
    this.send(headBytes, head.method === "HEAD" ? EMPTY : body);
  }

  private send(head: string, body: Uint8Array): void {
    const headBytes = encoder.encode(head);
    const out = new Uint8Array(headBytes.length + body.length);
    out.set(headBytes);
    out.set(body, headBytes.length);
    this.write(out);
  }

  private write(bytes: Uint8Array): void {
    if (this.state === "closed") return;
    if (this.outbox) {
      const joined = new Uint8Array(this.outbox.length + bytes.length);
      joined.set(this.outbox);
      joined.set(bytes, this.outbox.length);
      this.outbox = joined;
      return;
    }
    const written = this.socket.write(bytes);
    if (written < bytes.length) this.outbox = bytes.subarray(Math.max(written, 0));
  }

  /** Ends the connection once every byte is out. */
  private finish(): void {
    this.state = "closing";
    if (!this.outbox) this.socket.end();
  }
}

/**
 * The Request for a parsed head and its body; throws where the Fetch API refuses a method or header
 * value. `noHostOrigin` stands in for a missing or malformed Host: a Request needs an absolute URL.
 */
export function requestFromHead(head: RequestHead, body: Uint8Array, noHostOrigin: string): Request {
  const init: RequestInit = { method: head.method, headers: head.headers };
  if (body.length > 0 && head.method !== "GET" && head.method !== "HEAD") init.body = body as Uint8Array<ArrayBuffer>;
  if (/^https?:\/\//i.test(head.target)) return new Request(head.target, init);
  if (head.host !== undefined && head.host !== "") {
    try {
      return new Request(`http://${head.host}${head.target}`, init);
    } catch {
      // a malformed Host: answered like a missing one
    }
  }
  return new Request(`${noHostOrigin}${head.target}`, init);
}
