// The tracker's own HTTP/1.1 server on Bun (edge/adapter/http1-*.ts), as a client sees it over TCP.
// The handler waits a timer turn before the real app answers, as an announce on the Upstash store
// waits for Redis: every answer is still pending when the next bytes arrive.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BUN_CLIENT_ADDRESS } from "../edge/adapter/bun-serve.ts";
import { serveHttp1, type Http1Server } from "../edge/adapter/http1-server.ts";
import { createApp } from "../edge/app.ts";
import { loadConfig } from "../edge/config.ts";
import { createLogger } from "../edge/log.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { decode, type BDict } from "../shared/bencode.ts";
import { announceQuery, randomId } from "./tracker/http.ts";
import { get, rawExchange, REFUSED_REQUESTS, trickle } from "./tracker/raw-http.ts";

let server: Http1Server;
let base: string;
const handlerErrors: unknown[] = [];

beforeAll(() => {
  const log = createLogger("error");
  const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), ...BUN_CLIENT_ADDRESS, log });
  server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    handler: async (request, info) => {
      await Bun.sleep(5);
      return app.fetch(request, info);
    },
    onHandlerError: (error) => handlerErrors.push(error),
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop());

const announceTarget = (hash: Uint8Array, port: number) => `/announce?${announceQuery({ infoHash: hash, peerId: randomId(), port, left: 1 })}`;
const incomplete = (body: Uint8Array) => (decode(body) as BDict).incomplete;

describe("the tracker's HTTP/1.1 server", () => {
  test("twenty pipelined announces (more than it parses ahead) are all answered, in order", async () => {
    const hash = randomId();
    const requests = Array.from({ length: 20 }, (_, i) => get(announceTarget(hash, 7000 + i))).join("");
    const { replies, text } = await rawExchange(base, requests, { expect: 20 });
    expect(
      replies.map((r) => r.status),
      text.slice(0, 300),
    ).toEqual(Array(20).fill(200));
    expect(replies.map((r) => incomplete(r.body))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  test("a request written one byte at a time is answered; Connection: close ends the connection after the answer", async () => {
    const text = await trickle(server.port, get("/health", "Connection: close\r\n"));
    expect(text).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(text).toContain("\r\nconnection: close\r\n");
    expect(text).toEndWith('{"ok":true}');
  });

  test("nothing after a Connection: close request is answered", async () => {
    const { replies } = await rawExchange(base, get("/health", "Connection: close\r\n") + get("/health"), { expect: 2, timeoutMs: 3000 });
    expect(replies.map((r) => r.status)).toEqual([200]);
  });

  test("HTTP/1.0 closes after the answer unless it asks for keep-alive; then it is told so and can send another", async () => {
    const health = (extra = "") => `GET /health HTTP/1.0\r\nHost: tracker.test\r\n${extra}\r\n`;
    const closing = await rawExchange(base, health() + health(), { expect: 2, timeoutMs: 3000 });
    expect(closing.replies.map((r) => r.status)).toEqual([200]);
    const kept = await rawExchange(base, health("Connection: keep-alive\r\n") + health(), { expect: 2 });
    expect(kept.replies.map((r) => r.status)).toEqual([200, 200]);
    expect(kept.replies[0]!.headers.get("connection")).toBe("keep-alive");
  });

  test("HEAD gets the headers and no body", async () => {
    const { text } = await rawExchange(base, "HEAD /health HTTP/1.1\r\nHost: tracker.test\r\nConnection: close\r\n\r\n", { expect: 99, timeoutMs: 3000 });
    expect(text).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(text).toContain("content-type: application/json\r\n");
    expect(text).toEndWith("\r\n\r\n");
  });

  test("a POST body is read and framed, so the request after it is answered too", async () => {
    const post = "POST /announce HTTP/1.1\r\nHost: tracker.test\r\nContent-Length: 5\r\n\r\nhello";
    const { replies } = await rawExchange(base, post + get("/health"), { expect: 2 });
    expect(replies.map((r) => r.status)).toEqual([405, 200]);
  });

  for (const [what, bytes, status] of REFUSED_REQUESTS) {
    test(`${what} gets a plain ${status} and the connection closes`, async () => {
      const { replies } = await rawExchange(base, bytes + get("/health"), { expect: 2, timeoutMs: 3000 });
      expect(replies.map((r) => r.status)).toEqual([status]);
      expect(replies[0]!.headers.get("connection")).toBe("close");
      expect(handlerErrors).toEqual([]);
    });
  }
});
