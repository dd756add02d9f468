// Fuzz: the request-head parser of the tracker's own HTTP/1.1 server on Bun
// (edge/adapter/http1-codec.ts), on pipelined requests as clients write them, mutated. Every parse
// gives a head, "incomplete" or a refusal with a status the server can send; nothing else escapes. A
// head's size lies within the bytes given, and its fields are ones the server can frame and pass on.
// A head parses the same whatever follows it, and no prefix shorter than it parses as a head.
// Then the whole server (http1-server.ts on Bun.listen, the tracker app behind it) over loopback TCP:
// mutated pipelined requests in random chunks get well-framed answers, never a 5xx, and the server
// holds nothing once the connections are gone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { BUN_CLIENT_ADDRESS } from "../../edge/adapter/bun-serve.ts";
import { serveHttp1 } from "../../edge/adapter/http1-server.ts";
import { createApp, plainAnnouncerOf } from "../../edge/app.ts";
import { serveFfiHttp } from "../../edge/adapter/ffi-http-server.ts";
import { loadConfig } from "../../edge/config.ts";
import { createLogger } from "../../edge/log.ts";
import { MemorySwarmStore } from "../../edge/store/memory.ts";
import { MAX_BODY_BYTES, MAX_HEAD_BYTES, parseRequestHead, scanSimpleGet, type HeadResult } from "../../edge/adapter/http1-codec.ts";
import { utf8 } from "../../shared/bytes.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { queryCorpus } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, runFuzz, type FuzzSettings, type Rng, writeInPieces } from "./fuzz-kit.ts";
import { tcpExchange } from "../support/tcp-exchange.ts";

const settings = fuzzSettings(4000);
const STATUSES = new Set([400, 413, 431, 501, 505]);

beforeAll(install);
afterAll(uninstall);

function requestCorpus(): Uint8Array[] {
  const [announce, announce2, , , scrape] = queryCorpus();
  const requests = [
    `GET /announce?${announce} HTTP/1.1\r\nHost: tracker.test:8787\r\nUser-Agent: qBittorrent/4.6\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`,
    `GET /scrape?${scrape} HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /announce?${announce2} HTTP/1.0\r\n\r\n`,
    `\r\nPOST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloHEAD / HTTP/1.1\r\nhost: [::1]:1\r\n\r\n`,
    `GET http://tracker.test/announce?${announce} HTTP/1.1\nHost: a b\n\n`,
  ];
  return requests.map((r) => utf8.encode(r));
}

const TOKENS = [
  "\r\n",
  "\n",
  "\r\n\r\n",
  "\n\n",
  " ",
  "\t",
  ":",
  "\0",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/2.0",
  "HTTP/1.10",
  "Host: ",
  "Host: a\r\nHost: b\r\n",
  "Content-Length: 0\r\n",
  "Content-Length: 65537\r\n",
  "Content-Length: 99999999999999999\r\n",
  "Content-Length: 1\r\nContent-Length: 2\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Connection: close\r\n",
  "Connection: keep-alive, Upgrade\r\n",
  " folded\r\n",
  "*",
  "GET ",
  "http://",
].map((t) => utf8.encode(t));

/** Throws unless `r` is a result the server can act on for `bytes[start..end)`. */
function checkResult(r: HeadResult, start: number, end: number): void {
  if ("incomplete" in r) return;
  if ("error" in r) {
    if (!STATUSES.has(r.error.status) || r.error.reason === "") throw new Error(`refused with ${r.error.status} "${r.error.reason}"`);
    return;
  }
  const { head, size } = r;
  if (!(size > 0 && size <= end - start && size <= MAX_HEAD_BYTES + 2)) throw new Error(`a head of ${size} bytes in ${end - start}`);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(head.method)) throw new Error(`method ${JSON.stringify(head.method)}`);
  if (!(head.target.startsWith("/") || /^https?:\/\//i.test(head.target)) || /\s/.test(head.target)) throw new Error(`target ${JSON.stringify(head.target)}`);
  if (!Number.isSafeInteger(head.bodyLength) || head.bodyLength < 0 || head.bodyLength > MAX_BODY_BYTES) throw new Error(`body length ${head.bodyLength}`);
  // A value the Fetch API refuses (a bare CR) is refused by the connection, with a 400, when it builds the Request.
  for (const [name, value] of head.headers) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\0\n]/.test(value)) throw new Error(`header ${JSON.stringify([name, value])}`);
  }
}

/** Throws unless scanSimpleGet, where it reads a head, reads the one parseRequestHead gives. */
function checkSimple(buf: Uint8Array, start: number, end: number, full: HeadResult): void {
  const simple = scanSimpleGet(buf, start, end);
  if (simple === null) return;
  const same =
    "head" in full &&
    full.head.method === "GET" &&
    full.head.target === simple.target &&
    full.head.version === simple.version &&
    full.head.keepAlive === simple.keepAlive &&
    full.head.bodyLength === 0 &&
    full.size === simple.size;
  if (!same) throw new Error(`scanSimpleGet read ${JSON.stringify(simple).slice(0, 200)}, parseRequestHead ${JSON.stringify(full).slice(0, 200)}`);
}

function checkOne(input: Uint8Array, rng: Rng): void {
  const run = metered(() => parseRequestHead(input, 0, input.length));
  if (run.threw) throw run.error;
  if (run.bytes > 2 * input.length + 4096) throw new Error(`parsing allocated ${run.bytes} bytes for ${input.length}`);
  const whole = run.value!;
  checkResult(whole, 0, input.length);
  // Within a larger buffer (a connection's, with more after it), from an offset: the same answer.
  const pad = rng.int(8);
  const bigger = new Uint8Array(pad + input.length + 32);
  bigger.set(input, pad);
  bigger.set(rng.bytes(32), pad + input.length);
  checkSimple(input, 0, input.length, whole);
  const within = parseRequestHead(bigger, pad, pad + input.length);
  checkSimple(bigger, pad, pad + input.length, within);
  if (JSON.stringify(within) !== JSON.stringify(whole)) throw new Error(`parsing inside a larger buffer differs: ${JSON.stringify(within).slice(0, 200)}`);
  if ("head" in whole) {
    // What follows a complete head does not change it; no shorter prefix is a head.
    const more = parseRequestHead(bigger, pad, bigger.length);
    checkSimple(bigger, pad, bigger.length, more);
    if (JSON.stringify(more) !== JSON.stringify(whole)) throw new Error(`bytes after the head change it: ${JSON.stringify(more).slice(0, 200)}`);
    const cut = rng.int(whole.size);
    const prefix = parseRequestHead(input, 0, cut);
    if ("head" in prefix) throw new Error(`a ${cut}-byte prefix of a ${whole.size}-byte head parses as a head`);
  }
}

test(
  "http1: every request head parses, waits for more, or is refused with a status; a head is the same whatever follows",
  async () => {
    const corpus = requestCorpus();
    for (const r of corpus) expect("head" in parseRequestHead(r, 0, r.length)).toBe(true);
    // The simple scan reads the first (the common announce) itself, not only by falling back.
    expect(scanSimpleGet(corpus[0]!, 0, corpus[0]!.length)?.keepAlive).toBe(false);
    const mutator = new Mutator(corpus, TOKENS, 1 << 16);
    const heapBefore = heapAfterGc();
    await runFuzz("http1 head", settings, (rng) => mutator.next(rng), checkOne);
    expect(heapAfterGc() - heapBefore).toBeLessThan(256 * 1024 * 1024);
  },
  fuzzTimeout(settings),
);

/** Splits a server's byte stream into responses (status line, headers, Content-Length body); throws on anything else. */
function responsesIn(bytes: Uint8Array): number[] {
  const text = new TextDecoder("latin1").decode(bytes);
  const statuses: number[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw new Error(`a response cut short: ${JSON.stringify(text.slice(at, at + 80))}`);
    const lines = text.slice(at, headEnd).split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!);
    const length = lines.find((l) => /^content-length: /i.test(l));
    if (!status || !length) throw new Error(`not a framed response: ${JSON.stringify(lines.slice(0, 3))}`);
    statuses.push(Number(status[1]));
    at = headEnd + 4 + Number(length.slice(16));
  }
  return statuses;
}

/** A server under the TCP fuzz: its port, what it holds, and how to stop it. */
interface FuzzedServer {
  port: number;
  held(): { connections: number; heldBytes: number };
  stop(): Promise<void> | void;
}

type Handler = (r: Request, info: { remoteAddress: string }) => Promise<Response>;

/** Mutated pipelined requests over TCP to `start`'s server get framed answers, never a 5xx; nothing is held afterwards. */
async function fuzzServer(name: string, start: (handler: Handler, onHandlerError: (e: unknown) => void, app: ReturnType<typeof createApp>) => FuzzedServer) {
  // Each case is a TCP connection: a hundredth of the count.
  const tcp: FuzzSettings = { ...settings, cases: Math.max(1, Math.floor(settings.cases / 100)) };
  const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), ...BUN_CLIENT_ADDRESS, log: createLogger("error") });
  const handlerErrors: unknown[] = [];
  // Answers wait a timer turn, as on Redis, so pipelined requests queue behind them.
  const server = start(
    async (r, info) => (await Bun.sleep(0), app.fetch(r, info)),
    (e) => handlerErrors.push(e),
    app,
  );
  // A kept-alive connection is left once it has been quiet for a moment.
  const exchange = (bytes: Uint8Array, rng: Rng) =>
    tcpExchange({
      port: server.port,
      quietMs: 200,
      send: async (socket) => {
        await writeInPieces(socket, bytes, rng, 8, 2048);
        if (rng.chance(0.3)) socket.end();
      },
    });
  try {
    const mutator = new Mutator(requestCorpus(), TOKENS, 1 << 16);
    await runFuzz(
      name,
      tcp,
      (rng) => mutator.next(rng),
      async (input, rng) => {
        const statuses = responsesIn(await exchange(input, rng));
        if (statuses.some((s) => s >= 500 && s !== 501 && s !== 505)) throw new Error(`answered ${statuses.join(", ")}`);
        if (handlerErrors.length > 0) throw new Error(`the handler threw: ${String(handlerErrors[0])}`);
      },
      { shrinkAttempts: 30 },
    );
    for (let waited = 0; waited < 30_000 && server.held().connections > 0; waited += 20) await Bun.sleep(20);
    expect(server.held()).toEqual({ connections: 0, heldBytes: 0 });
  } finally {
    await server.stop();
  }
}

test(
  "http1 server: mutated pipelined requests over TCP get framed answers, never a 5xx; nothing is held afterwards",
  async () => {
    await fuzzServer("http1 server", (handler, onHandlerError) => {
      const server = serveHttp1({ hostname: "127.0.0.1", port: 0, handler, onHandlerError });
      return {
        port: server.port,
        held: () => {
          const { connections, heldBytes, pausedConnections } = server.load();
          return { connections: connections + pausedConnections, heldBytes };
        },
        stop: () => server.stop(),
      };
    });
  },
  fuzzTimeout(settings, 100),
);

test.skipIf(process.platform !== "linux" || process.arch !== "x64")(
  "ffi http server: mutated pipelined requests over TCP get framed answers, never a 5xx; nothing is held afterwards",
  async () => {
    // Plain announces answered from their bytes as in production, everything else a timer turn later.
    await fuzzServer("ffi http server", (handler, onHandlerError, app) => {
      const server = serveFfiHttp({ hostname: "127.0.0.1", port: 0, handler, plain: plainAnnouncerOf(app), onHandlerError });
      return { port: server.port, held: () => server.load(), stop: () => server.stop() };
    });
  },
  fuzzTimeout(settings, 100),
);
