// Whole HTTP/1.1 answers as bytes, for the server on raw syscalls (ffi-http-server.ts): a bencoded 200
// built straight from its body, and any Response. No I/O here.
import { encodeResponseHead, type RequestHead } from "./http1-codec.ts";
import { httpDate } from "./http1-connection.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const latin1 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** A header's value, by name in any case (the first of its name). */
export function headerOf(head: RequestHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of head.headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

export function join(a: Uint8Array, b: Uint8Array): Uint8Array {
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

/** A 200 with a bencoded body, in one allocation. */
export function bencodedReply(body: Uint8Array, close: boolean, version: "1.0" | "1.1"): Uint8Array {
  const out = new Uint8Array(bencodedReplyBytes(body, close, version));
  bencodedReplyInto(out, body, close, version);
  return out;
}

/** The length of bencodedReply's answer. */
export function bencodedReplyBytes(body: Uint8Array, close: boolean, version: "1.0" | "1.1"): number {
  const end = close ? CLOSE_END : version === "1.0" ? KEEP_ALIVE_10_END : END;
  return okHeadNow().length + CONTENT_LENGTH.length + decimalDigits(body.length) + end.length + body.length;
}

/** bencodedReply's answer written at the start of `out` (room for bencodedReplyBytes); its length. */
export function bencodedReplyInto(out: Uint8Array, body: Uint8Array, close: boolean, version: "1.0" | "1.1"): number {
  const head = okHeadNow();
  const end = close ? CLOSE_END : version === "1.0" ? KEEP_ALIVE_10_END : END;
  out.set(head);
  let at = head.length;
  out.set(CONTENT_LENGTH, at);
  at += CONTENT_LENGTH.length;
  const digits = decimalDigits(body.length);
  for (let i = digits - 1, n = body.length; i >= 0; i--, n = Math.floor(n / 10)) out[at + i] = 48 + (n % 10);
  at += digits;
  out.set(end, at);
  at += end.length;
  out.set(body, at);
  return at + body.length;
}

function okHeadNow(): Uint8Array {
  const date = httpDate();
  if (date !== okDate) {
    okDate = date;
    okHead = latin1(`HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=binary\r\ncache-control: no-store\r\ndate: ${date}\r\n`);
  }
  return okHead;
}

function decimalDigits(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** A plain-text answer to a request we refuse; the connection closes after it. */
export function refusalBytes(status: number, reason: string): Uint8Array {
  const body = encoder.encode(`${reason}\n`);
  const head = encodeResponseHead(status, new Headers({ "content-type": "text/plain" }), body.length, {
    close: true,
    version: "1.1",
    date: httpDate(),
  });
  return join(encoder.encode(head), body);
}

/** A Response (or its promise) as bytes to send; an error becomes a 500, as http1-connection.ts answers it. */
export async function responseBytes(
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
