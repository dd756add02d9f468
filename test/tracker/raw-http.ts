// Exact bytes to a tracker over one TCP connection, for what fetch() cannot send: no Host header,
// a malformed Host, several requests pipelined, a half-close after the request. Replies are split by
// Content-Length (or read to the end of the connection).
import { connect } from "node:net";

export interface RawReply {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

export interface RawExchange {
  replies: RawReply[];
  /** Every byte the server sent, for assertion messages. */
  text: string;
}

const latin1 = new TextDecoder("latin1");

/**
 * Sends `bytes` at once (optionally half-closing after them), and collects replies until `expect`
 * replies are complete, the server closes, or the safety deadline passes (then returns what came).
 */
export async function rawExchange(baseUrl: string, bytes: string, opts: { expect: number; halfClose?: boolean; timeoutMs?: number }): Promise<RawExchange> {
  const url = new URL(baseUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const received: Buffer[] = [];
  await new Promise<void>((resolve) => {
    const socket = connect({ host, port: Number(url.port) }, () => {
      socket.write(Buffer.from(bytes, "latin1"));
      if (opts.halfClose) socket.end();
    });
    const timer = setTimeout(finish, opts.timeoutMs ?? 15_000);
    function finish() {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    }
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      if (parseReplies(Buffer.concat(received), false).length >= opts.expect) finish();
    });
    socket.on("close", finish);
    socket.on("error", finish);
  });
  const all = Buffer.concat(received);
  return { replies: parseReplies(all, true), text: latin1.decode(all) };
}

/** Complete replies in `data`; with `atEnd`, a reply without Content-Length takes the rest. */
function parseReplies(data: Buffer, atEnd: boolean): RawReply[] {
  const replies: RawReply[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const [statusLine, ...lines] = latin1.decode(data.subarray(at, headEnd)).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? NaN);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = headers.get("content-length");
    const bodyStart = headEnd + 4;
    let bodyEnd: number;
    if (length !== undefined) bodyEnd = bodyStart + Number(length);
    else if (atEnd) bodyEnd = data.length;
    else break;
    if (bodyEnd > data.length) break;
    replies.push({ status, headers, body: new Uint8Array(data.subarray(bodyStart, bodyEnd)) });
    at = bodyEnd;
  }
  return replies;
}

/** Writes the bytes to 127.0.0.1:`port` one at a time, each in its own write, and reads to the end of the connection. */
export async function trickle(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const socket = connect({ host: "127.0.0.1", port }, async () => {
      for (const ch of bytes) {
        socket.write(ch);
        await Bun.sleep(1);
      }
    });
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** An HTTP/1.1 GET of `target` with a Host and the `extra` header lines. */
export const get = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: tracker.test\r\n${extra}\r\n`;

/** Requests the HTTP/1.1 codec refuses (what, the bytes, the status answered) before the connection closes. */
export const REFUSED_REQUESTS: ReadonlyArray<[string, string, number]> = [
  ["a malformed request line", "GARBAGE\r\n\r\n", 400],
  ["an unknown HTTP version", "GET / HTTP/2.0\r\n\r\n", 505],
  ["a header line without a name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400],
  ["a chunked body", "POST /announce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501],
  ["a body over 64 KiB", "POST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 413],
];
