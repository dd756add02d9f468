// The tracker's HTTP/1.1 server on raw syscalls (edge/adapter/ffi-http-server.ts, Linux x86-64), as a
// client sees it over TCP. Two servers over the real app: one answering plain announces from their
// bytes as in production, one whose every answer waits a timer turn (as on the Upstash store), so
// that answers are still pending when the next bytes arrive.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { BUN_CLIENT_ADDRESS } from "../edge/adapter/bun-serve.ts";
import { type FfiHttpServer, serveFfiHttp } from "../edge/adapter/ffi-http-server.ts";
import { createApp, plainAnnouncerOf } from "../edge/app.ts";
import { loadConfig } from "../edge/config.ts";
import { createLogger } from "../edge/log.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { decode, type BDict } from "../shared/bencode.ts";
import { announceQuery, randomId } from "./tracker/http.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { until } from "./support/until.ts";
import { get, rawExchange, REFUSED_REQUESTS, trickle } from "./tracker/raw-http.ts";

const linuxX64 = process.platform === "linux" && process.arch === "x64";

let direct: FfiHttpServer;
let delayed: FfiHttpServer;
const handlerErrors: unknown[] = [];

beforeAll(() => {
  if (!linuxX64) return;
  const log = createLogger("error");
  const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), ...BUN_CLIENT_ADDRESS, log });
  const onHandlerError = (error: unknown) => handlerErrors.push(error);
  direct = serveFfiHttp({ hostname: "127.0.0.1", port: 0, handler: (r, info) => app.fetch(r, info), plain: plainAnnouncerOf(app), onHandlerError });
  delayed = serveFfiHttp({
    hostname: "127.0.0.1",
    port: 0,
    handler: async (request, info) => {
      await Bun.sleep(5);
      return app.fetch(request, info);
    },
    plain: undefined,
    onHandlerError,
  });
});
afterAll(async () => {
  await direct?.stop();
  await delayed?.stop();
});

const baseOf = (s: FfiHttpServer) => `http://127.0.0.1:${s.port}`;
const announceTarget = (hash: Uint8Array, port: number, extra = "") =>
  `/announce?${announceQuery({ infoHash: hash, peerId: randomId(), port, left: 1 })}${extra}`;
const incomplete = (body: Uint8Array) => (decode(body) as BDict).incomplete;

describe.skipIf(!linuxX64)("the tracker's HTTP/1.1 server on raw syscalls", () => {
  test("one announce per connection, 200 connections at once: each gets its bencoded reply, and the peers are the clients' addresses", async () => {
    const hash = randomId();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${baseOf(direct)}${announceTarget(hash, 10000 + i, "&compact=1")}`, { headers: { Connection: "close" } }).then(async (r) => ({
          status: r.status,
          connection: r.headers.get("connection"),
          body: new Uint8Array(await r.arrayBuffer()),
        })),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(new Set(replies.map((r) => r.connection))).toEqual(new Set(["close"]));
    const last = await fetch(`${baseOf(direct)}${announceTarget(hash, 9999, "&compact=1&numwant=5")}`, { headers: { Connection: "close" } });
    const peers = (decode(new Uint8Array(await last.arrayBuffer())) as BDict).peers as Uint8Array;
    expect(peers.length).toBe(30);
    for (let at = 0; at < peers.length; at += 6) expect([...peers.subarray(at, at + 4)]).toEqual([127, 0, 0, 1]);
  });

  test("an announce's failure is answered as Bun.serve answers it: 200, the bencoded reason, X-Tracker-Error", async () => {
    const { replies } = await rawExchange(baseOf(direct), get("/announce?info_hash=x", "Connection: close\r\n"), { expect: 1 });
    expect(replies[0]!.status).toBe(200);
    expect(replies[0]!.headers.get("x-tracker-error")).toBe("bad-info-hash");
    expect(new TextDecoder().decode(replies[0]!.body)).toStartWith("d14:failure reason");
  });

  for (const [name, server] of [
    ["answered at once", () => direct],
    ["answered a timer turn later", () => delayed],
  ] as const) {
    test(`${name}: twenty pipelined announces (more than it parses ahead) are all answered, in order`, async () => {
      const hash = randomId();
      const requests = Array.from({ length: 20 }, (_, i) => get(announceTarget(hash, 7000 + i))).join("");
      const { replies, text } = await rawExchange(baseOf(server()), requests, { expect: 20 });
      expect(
        replies.map((r) => r.status),
        text.slice(0, 300),
      ).toEqual(Array(20).fill(200));
      expect(replies.map((r) => incomplete(r.body))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    test(`${name}: a request written one byte at a time is answered; Connection: close ends the connection after the answer`, async () => {
      const text = await trickle(server().port, get("/health", "Connection: close\r\n"));
      expect(text).toStartWith("HTTP/1.1 200 OK\r\n");
      expect(text).toContain("\r\nconnection: close\r\n");
      expect(text).toEndWith('{"ok":true}');
    });

    test(`${name}: a client that half-closes after its request still gets the answer`, async () => {
      const { replies } = await rawExchange(baseOf(server()), get(announceTarget(randomId(), 6881)), { expect: 1, halfClose: true });
      expect(replies.map((r) => r.status)).toEqual([200]);
    });
  }

  test("nothing after a Connection: close request is answered", async () => {
    const { replies } = await rawExchange(baseOf(direct), get("/health", "Connection: close\r\n") + get("/health"), { expect: 2, timeoutMs: 3000 });
    expect(replies.map((r) => r.status)).toEqual([200]);
  });

  test("HTTP/1.0 closes after the answer unless it asks for keep-alive; then it is told so and can send another", async () => {
    const announce = (extra = "") => `GET ${announceTarget(randomId(), 6881)} HTTP/1.0\r\n${extra}\r\n`;
    const closing = await rawExchange(baseOf(direct), announce() + announce(), { expect: 2, timeoutMs: 3000 });
    expect(closing.replies.map((r) => r.status)).toEqual([200]);
    const kept = await rawExchange(baseOf(direct), announce("Connection: keep-alive\r\n") + announce(), { expect: 2 });
    expect(kept.replies.map((r) => r.status)).toEqual([200, 200]);
    expect(kept.replies[0]!.headers.get("connection")).toBe("keep-alive");
  });

  test.skipIf(!needs(PROGRAMS.ss))("its connections use Reno, whatever the system's congestion control (BBR would pace each one)", async () => {
    // A request left incomplete keeps the connection open (and accepted, past TCP_DEFER_ACCEPT) while ss looks.
    const socket = connect(direct.port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.write("GET /health HTTP/1.1\r\n");
    try {
      let shown = "";
      await until(() => {
        shown = Bun.spawnSync(["ss", "-tin", `sport = :${direct.port}`], { stdout: "pipe" }).stdout.toString();
        return shown.includes("ESTAB");
      }, "ss to show the server's side of the connection");
      expect(shown).toMatch(/^\s+reno /m);
    } finally {
      socket.destroy();
    }
  });

  test("HEAD gets the headers and no body", async () => {
    const { text } = await rawExchange(baseOf(direct), "HEAD /health HTTP/1.1\r\nHost: tracker.test\r\nConnection: close\r\n\r\n", {
      expect: 99,
      timeoutMs: 3000,
    });
    expect(text).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(text).toContain("content-type: application/json\r\n");
    expect(text).toEndWith("\r\n\r\n");
  });

  test("a POST body is read and framed, so the request after it is answered too", async () => {
    const post = "POST /announce HTTP/1.1\r\nHost: tracker.test\r\nContent-Length: 5\r\n\r\nhello";
    const { replies } = await rawExchange(baseOf(direct), post + get("/health"), { expect: 2 });
    expect(replies.map((r) => r.status)).toEqual([405, 200]);
  });

  test("a refused request whose body is still coming: the client gets its 413, then the connection ends without a reset", async () => {
    const socket = connect({ host: "127.0.0.1", port: direct.port });
    let text = "";
    let failure: string | null = null;
    // A FIN from the server, not a reset: the kernel resets a connection closed with bytes unread.
    let finished = false;
    const ended = new Promise<void>((resolve) => {
      socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
      socket.on("end", () => (finished = true));
      socket.on("error", (e) => {
        failure = e.message;
        resolve();
      });
      socket.on("close", () => resolve());
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // More than the server reads at once: some is still unread when it has refused the request.
    socket.write(`POST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n${"x".repeat(300_000)}`);
    await ended;
    expect(text).toStartWith("HTTP/1.1 413 ");
    expect({ failure, finished }).toEqual({ failure: null, finished: true });
  });

  test("a client that does not read its answers is held back by TCP, not buffered, and gets every answer once it reads", async () => {
    // 2,000 pipelined dashboard pages (several MB of answers) against a client that reads nothing at first.
    const count = 2000;
    const STATUS = "HTTP/1.1 200 OK\r\n";
    const page = get("/");
    const socket = connect({ host: "127.0.0.1", port: direct.port });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.pause();
    socket.write(page.repeat(count));
    await Bun.sleep(300);
    const held = direct.load().heldBytes;
    let statuses = 0;
    let text = "";
    const done = new Promise<void>((resolve) => {
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        // Count status lines as they come; keep only what may be the start of the next one.
        let from = 0;
        for (let at = text.indexOf(STATUS); at >= 0; at = text.indexOf(STATUS, from)) {
          statuses++;
          from = at + STATUS.length;
        }
        text = text.slice(Math.max(from, text.length - STATUS.length + 1));
        if (statuses >= count) resolve();
      });
      socket.on("close", () => resolve());
    });
    socket.resume();
    await done;
    socket.destroy();
    expect(statuses).toBe(count);
    expect(held).toBeLessThan(4 * 1024 * 1024);
  });

  for (const [what, bytes, status] of REFUSED_REQUESTS) {
    test(`${what} gets a plain ${status} and the connection closes`, async () => {
      const { replies } = await rawExchange(baseOf(direct), bytes + get("/health"), { expect: 2, timeoutMs: 3000 });
      expect(replies.map((r) => r.status)).toEqual([status]);
      expect(replies[0]!.headers.get("connection")).toBe("close");
      expect(handlerErrors).toEqual([]);
    });
  }

  test("behind a trusted proxy, a plain announce's peer address is the proxy header's", async () => {
    const app = createApp({
      store: new MemorySwarmStore(),
      config: loadConfig({ TRACKER_TRUSTED_PROXY_HEADER: "X-Forwarded-For" }),
      ...BUN_CLIENT_ADDRESS,
      log: createLogger("error"),
    });
    const proxied = serveFfiHttp({
      hostname: "127.0.0.1",
      port: 0,
      handler: (r, info) => app.fetch(r, info),
      plain: plainAnnouncerOf(app),
      onHandlerError: () => {},
    });
    try {
      const hash = randomId();
      const first = get(announceTarget(hash, 6881, "&compact=1"), "X-Forwarded-For: 203.0.113.9\r\n");
      const second = get(announceTarget(hash, 6882, "&compact=1"), "Connection: close\r\n");
      const { replies } = await rawExchange(baseOf(proxied), first + second, { expect: 2 });
      const peers = (decode(replies[1]!.body) as BDict).peers as Uint8Array;
      expect([...peers]).toEqual([203, 0, 113, 9, 6881 >> 8, 6881 & 255]);
    } finally {
      await proxied.stop();
    }
  });

  test("a kept-alive connection left idle, and one whose request never completes, are closed after the idle time; one waiting for its answer is not", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), ...BUN_CLIENT_ADDRESS, log: createLogger("error") });
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const server = serveFfiHttp({
      hostname: "127.0.0.1",
      port: 0,
      // /health waits until the test releases it, far past the idle time.
      handler: async (r, info) => (new URL(r.url).pathname === "/health" ? (await held, app.fetch(r, info)) : app.fetch(r, info)),
      plain: plainAnnouncerOf(app),
      onHandlerError: () => {},
      idleMs: 100,
    });
    const open = (bytes: string) => {
      const socket = connect({ host: "127.0.0.1", port: server.port });
      let text = "";
      let closed = false;
      socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
      socket.on("close", () => (closed = true));
      socket.on("error", () => {});
      socket.write(bytes);
      return { socket, text: () => text, closed: () => closed };
    };
    try {
      const idle = open(get(announceTarget(randomId(), 6881)));
      const partial = open("GET /announce?info_hash=");
      const waiting = open(get("/health"));
      for (let i = 0; i < 300 && !(idle.closed() && partial.closed()); i++) await Bun.sleep(10);
      expect(idle.text()).toStartWith("HTTP/1.1 200 OK\r\n");
      expect([idle.closed(), partial.closed(), waiting.closed()]).toEqual([true, true, false]);
      release();
      for (let i = 0; i < 300 && !waiting.text().includes('{"ok":true}'); i++) await Bun.sleep(10);
      expect(waiting.text()).toContain('{"ok":true}');
      waiting.socket.destroy();
    } finally {
      await server.stop();
    }
  });

  test("once every connection is done, the server holds none and no bytes", async () => {
    await rawExchange(baseOf(direct), get("/health", "Connection: close\r\n"), { expect: 1 });
    // The server learns of clients that went away (earlier tests') in its own turns: given a few.
    for (let i = 0; i < 100 && direct.load().connections > 0; i++) await Bun.sleep(10);
    expect(direct.load()).toEqual({ connections: 0, heldBytes: 0 });
  });
});
