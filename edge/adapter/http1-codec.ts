// HTTP/1.x request heads in, response heads out, as bytes (RFC 9112). For the tracker's own HTTP
// server on Bun (http1-server.ts). No I/O here.

export interface RequestHead {
  method: string;
  /** origin-form ("/announce?...") or absolute-form ("http://host/announce?...") */
  target: string;
  version: "1.0" | "1.1";
  headers: [string, string][];
  /** The Host header when there is exactly one, else undefined. */
  host: string | undefined;
  /** HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`. */
  keepAlive: boolean;
  bodyLength: number;
}

/** A request we refuse; the connection closes after the answer (what follows cannot be framed). */
export interface HeadError {
  status: 400 | 413 | 431 | 501 | 505;
  reason: string;
}

export type HeadResult = { head: RequestHead; size: number } | { incomplete: true } | { error: HeadError };

/** Far above any tracker request (the query limit is configurable up to 1 MB; Bun.serve's head limit is 16 KiB). */
export const MAX_HEAD_BYTES = 1024 * 1024 + 16 * 1024;
/** The tracker reads no bodies; a small one (a POST that gets 405) is read and dropped. */
export const MAX_BODY_BYTES = 64 * 1024;

const latin1 = new TextDecoder("latin1");
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)$/;

/** Parses the request head starting at `start` (empty lines before it are skipped, as RFC 9112 allows). */
export function parseRequestHead(buf: Uint8Array, start: number, end: number): HeadResult {
  let at = start;
  while (at < end && (buf[at] === 13 || buf[at] === 10)) at++;
  const headEnd = findHeadEnd(buf, at, end);
  if (headEnd < 0) {
    return end - start > MAX_HEAD_BYTES ? { error: { status: 431, reason: "request head too large" } } : { incomplete: true };
  }
  if (headEnd - start > MAX_HEAD_BYTES) return { error: { status: 431, reason: "request head too large" } };
  const lines = latin1.decode(buf.subarray(at, headEnd)).split("\n");
  const line = (i: number) => lines[i]!.replace(/\r$/, "");
  const request = REQUEST_LINE.exec(line(0));
  if (!request) return { error: { status: 400, reason: "malformed request line" } };
  const [, method, target, major, minor] = request as unknown as [string, string, string, string, string];
  if (major !== "1" || (minor !== "0" && minor !== "1")) return { error: { status: 505, reason: `HTTP/${major}.${minor} is not supported` } };
  if (!target.startsWith("/") && !/^https?:\/\//i.test(target)) return { error: { status: 400, reason: "unsupported request target" } };

  const headers: [string, string][] = [];
  let hosts = 0;
  let host: string | undefined;
  let bodyLength: string | undefined;
  const connection: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const text = line(i);
    if (text === "") continue; // the terminating empty line
    const colon = text.indexOf(":");
    const name = colon > 0 ? text.slice(0, colon) : "";
    // A name with spaces or a folded line (leading whitespace) is refused, as RFC 9112 asks.
    if (!TOKEN.test(name)) return { error: { status: 400, reason: "malformed header line" } };
    const value = text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (value.includes("\0")) return { error: { status: 400, reason: "NUL in a header value" } };
    const lower = name.toLowerCase();
    if (lower === "host") {
      hosts++;
      host = value;
    } else if (lower === "content-length") {
      if (!/^\d{1,15}$/.test(value) || (bodyLength !== undefined && bodyLength !== value)) {
        return { error: { status: 400, reason: "bad Content-Length" } };
      }
      bodyLength = value;
    } else if (lower === "transfer-encoding") {
      // No tracker request has a body worth streaming; without a length nothing after it can be framed.
      return { error: { status: 501, reason: "Transfer-Encoding is not supported" } };
    } else if (lower === "connection") {
      for (const token of value.toLowerCase().split(",")) connection.push(token.trim());
    }
    headers.push([name, value]);
  }
  const length = Number(bodyLength ?? 0);
  if (length > MAX_BODY_BYTES) return { error: { status: 413, reason: "request body too large" } };
  const version = minor === "1" ? "1.1" : "1.0";
  const keepAlive = version === "1.1" ? !connection.includes("close") : connection.includes("keep-alive");
  return {
    head: { method, target, version, headers, host: hosts === 1 ? host : undefined, keepAlive, bodyLength: length },
    size: headEnd - start,
  };
}

/** Index just past the empty line that ends the head (LF LF or LF CR LF), or -1. */
function findHeadEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = buf.indexOf(10, from); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) {
    if (i + 1 < end && buf[i + 1] === 10) return i + 2;
    if (i + 2 < end && buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** Headers we write ourselves, from the framing we chose. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "date"]);

/**
 * The response head for a body of `bodyLength` bytes. `close`: the connection ends after this
 * response. An HTTP/1.0 client that asked to keep the connection is told it is kept.
 */
export function encodeResponseHead(
  status: number,
  headers: Headers,
  bodyLength: number,
  opts: { close: boolean; version: "1.0" | "1.1"; date: string },
): string {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
  headers.forEach((value, name) => {
    if (!FRAMING.has(name)) head += `${name}: ${value}\r\n`;
  });
  head += `date: ${opts.date}\r\ncontent-length: ${bodyLength}\r\n`;
  if (opts.close) head += "connection: close\r\n";
  else if (opts.version === "1.0") head += "connection: keep-alive\r\n";
  return `${head}\r\n`;
}
