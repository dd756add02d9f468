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
/**
 * Bytes as one character each, straight from the bytes and with no view made: Buffer's latin1Slice on
 * any Uint8Array, half the time of TextDecoder per announce's target (0.20 against 0.42 µs for 250
 * bytes). Used where only printable ASCII is kept, on which the two agree (TextDecoder's "latin1" is
 * windows-1252 above 0x7f).
 */
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;
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

/** The request head most announces have, as scanSimpleGet reads it. */
export interface SimpleGet {
  target: string;
  version: "1.0" | "1.1";
  keepAlive: boolean;
  /** Bytes of the head, its empty line included. */
  size: number;
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Bytes a header name may hold (RFC 9110 tchar). */
const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[ch.charCodeAt(0)] = 1;

/**
 * The common case of parseRequestHead in one pass over the bytes, no string but the target made: a
 * whole `GET /... HTTP/1.x` head in CRLF lines of printable ASCII, without Content-Length or
 * Transfer-Encoding. Where it gives a result, parseRequestHead gives the same head (checked by the
 * http1 fuzz test); null means "not that case", and parseRequestHead decides.
 */
export function scanSimpleGet(buf: Uint8Array, start: number, end: number): SimpleGet | null {
  if (end - start < 18 || buf[start] !== 71 || buf[start + 1] !== 69 || buf[start + 2] !== 84 || buf[start + 3] !== 32 || buf[start + 4] !== 47) return null;
  // The target ends at the first space (found natively); its bytes are checked once it is text.
  let i = buf.indexOf(32, start + 5);
  if (i < 0) return null;
  const targetEnd = i;
  if (i + 11 > end || buf[i] !== 32 || buf[i + 1] !== 72 || buf[i + 2] !== 84 || buf[i + 3] !== 84 || buf[i + 4] !== 80) return null;
  const minor = buf[i + 8]!;
  if (buf[i + 5] !== 47 || buf[i + 6] !== 49 || buf[i + 7] !== 46 || (minor !== 48 && minor !== 49) || buf[i + 9] !== 13 || buf[i + 10] !== 10) return null;
  i += 11;
  let close = false;
  let keepAlive = false;
  for (;;) {
    if (i + 1 >= end) return null;
    if (buf[i] === 13) {
      if (buf[i + 1] !== 10) return null;
      i += 2;
      break;
    }
    const nameStart = i;
    while (i < end && buf[i]! < 128 && TCHAR[buf[i]!] === 1) i++;
    const nameLength = i - nameStart;
    if (nameLength === 0 || i >= end || buf[i] !== 58) return null;
    const valueStart = ++i;
    while (i < end && ((buf[i]! >= 32 && buf[i]! < 127) || buf[i] === 9)) i++;
    if (i + 1 >= end || buf[i] !== 13 || buf[i + 1] !== 10) return null;
    if (nameLength === 10 && lowerEquals(buf, nameStart, "connection")) {
      const tokens = connectionTokens(buf, valueStart, i);
      close ||= tokens.close;
      keepAlive ||= tokens.keepAlive;
    } else if (
      (nameLength === 14 && lowerEquals(buf, nameStart, "content-length")) ||
      (nameLength === 17 && lowerEquals(buf, nameStart, "transfer-encoding"))
    ) {
      return null;
    }
    i += 2;
  }
  if (i - start > MAX_HEAD_BYTES) return null;
  const target = latin1Slice.call(buf, start + 4, targetEnd);
  if (!VISIBLE_ASCII.test(target)) return null;
  const version = minor === 49 ? "1.1" : "1.0";
  return { target, version, keepAlive: version === "1.1" ? !close : keepAlive, size: i - start };
}

/** Whether buf[at..] holds `lower` (lowercase ASCII), in any case. */
function lowerEquals(buf: Uint8Array, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[at + k]! | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** Whether a Connection value (printable ASCII and tabs) lists "close" or "keep-alive", in any case. */
function connectionTokens(buf: Uint8Array, from: number, to: number): { close: boolean; keepAlive: boolean } {
  let close = false;
  let keepAlive = false;
  let at = from;
  while (at <= to) {
    let comma = at;
    while (comma < to && buf[comma] !== 44) comma++;
    let a = at;
    let b = comma;
    while (a < b && (buf[a] === 32 || buf[a] === 9)) a++;
    while (b > a && (buf[b - 1] === 32 || buf[b - 1] === 9)) b--;
    if (b - a === 5 && lowerEquals(buf, a, "close")) close = true;
    else if (b - a === 10 && lowerEquals(buf, a, "keep-alive")) keepAlive = true;
    at = comma + 1;
  }
  return { close, keepAlive };
}
