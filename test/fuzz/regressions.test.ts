// Inputs the fuzz targets (or the review that writing them prompted) found mishandled, each reduced
// to the smallest input showing it, kept as plain tests so the defect cannot come back unnoticed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { memoryUsage } from "bun:jsc";
import { encode } from "../../shared/bencode.ts";
import { MetainfoError } from "../../shared/metainfo/errors.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { encodeHandshake, WireError } from "../../shared/wire/codec.ts";
import { MessageReader } from "../../peer/net/message-reader.ts";
import { readAnnounceReply } from "../../peer/tracker/tracker-reply.ts";
import { connect } from "node:net";
import { serveHttp1 } from "../../edge/adapter/http1-server.ts";
import { rawExchange } from "../tracker/raw-http.ts";
import { startDeno } from "../tracker/servers.ts";
import { errorCode } from "../support/error-code.ts";

/** Bytes the process holds (JS heap and malloc) grown across `fn`, with no collection in between. */
function growthAcross(fn: () => void): number {
  Bun.gc(true);
  const before = memoryUsage().current;
  fn();
  return memoryUsage().current - before;
}

describe("metainfo", () => {
  test("a file path of 8000 components (a 24 KB torrent) parses without quadratic memory: the clash check walks a tree, not every prefix as a string", () => {
    const path = Array<string>(8000).fill("a");
    const bytes = encode({
      info: {
        name: "deep",
        "piece length": 16384,
        pieces: new Uint8Array(20),
        files: [
          { length: 1, path },
          { length: 1, path: ["b"] },
        ],
      },
    });
    let parsed: ReturnType<typeof parseMetainfo> | undefined;
    // Every prefix joined as a string kept ~8000^2 = 64 M characters alive at once (2 s and 1.9 GB at 40000 components).
    expect(growthAcross(() => (parsed = parseMetainfo(bytes)))).toBeLessThan(16 * 1024 * 1024);
    expect(parsed!.files[0]!.path).toHaveLength(8000);
    // The clash check still works at depth: the same deep path twice is refused.
    const twice = encode({
      info: {
        name: "deep",
        "piece length": 16384,
        pieces: new Uint8Array(20),
        files: [
          { length: 1, path },
          { length: 1, path },
        ],
      },
    });
    expect(() => parseMetainfo(twice)).toThrow(MetainfoError);
  });
});

describe("message reader", () => {
  const reader = () => new MessageReader(13, { handshake() {}, message() {}, droppedBlock() {} });
  const codeOf = (fn: () => unknown) => errorCode(WireError, fn);

  test("a wrong handshake protocol byte arriving in a later chunk is refused with that chunk, not after 68 bytes", () => {
    const r = reader();
    r.feed(Uint8Array.from([19, 66, 105, 116])); // "\x13Bit"
    expect(codeOf(() => r.feed(Uint8Array.from([84, 88])))).toBe("bad-protocol"); // "TX": not "To"
  });

  test("a message header completed by a later chunk is checked with that chunk: a 5-byte choke is refused at once", () => {
    const r = reader();
    r.feed(encodeHandshake({ reserved: new Uint8Array(8), infoHash: new Uint8Array(20), peerId: new Uint8Array(20) }));
    r.feed(Uint8Array.from([0, 0, 0, 5]));
    expect(codeOf(() => r.feed(Uint8Array.from([0])))).toBe("too-long");
  });
});

describe("tracker reply", () => {
  test("an interval longer than a timer holds (2^31 ms, ~24.8 days) is capped, so btpeer does not re-announce at once in a loop", () => {
    // setTimeout fires after 1 ms for a delay past 2^31 - 1 ms: a tracker saying 3000000 s got an announce storm.
    for (const interval of [3_000_000, 2 ** 32, 2 ** 53 - 1]) {
      const reply = readAnnounceReply("http://t/announce", 200, encode({ interval, peers: new Uint8Array(0) }));
      expect(reply.interval * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
      expect(reply.interval).toBeGreaterThanOrEqual(3600);
    }
  });

  test("a reply with its keys out of order (as hand-written trackers send) is read, not refused as 'not a bencoded reply'", () => {
    const text = (t: string) => new TextEncoder().encode(t);
    const bytes = Uint8Array.from([...text("d8:intervali1800e5:peers6:"), 127, 0, 0, 1, 0x1a, 0xe1, ...text("8:completei1ee")]);
    expect(readAnnounceReply("http://t/announce", 200, bytes).peers).toEqual([{ ip: "127.0.0.1", port: 6881 }]);
  });
});

describe("tracker on deno serve", () => {
  // Deno hands an absolute-form request target on as it came: "GET http://x?y" gives the URL
  // "http://x?y", whose path is empty. Hono's router found no route for "" and threw (a 500).
  let tracker: Awaited<ReturnType<typeof startDeno>>;
  beforeAll(async () => {
    tracker = await startDeno({ host: "127.0.0.1", env: {} });
  }, 90_000);
  afterAll(async () => {
    await tracker?.stop();
  });

  test("an absolute-form request target with an empty path is answered as the root, not with a 500", async () => {
    for (const [target, status, body] of [
      ["http://tracker.test?info_hash=x", 200, "btswarm tracker"],
      ["http://tracker.test:1#x", 200, "btswarm tracker"],
      // and a "/" inside the query is not the path
      ["http://tracker.test?x=/announce", 200, "btswarm tracker"],
    ] as const) {
      const { replies, text } = await rawExchange(tracker.baseUrl, `GET ${target} HTTP/1.1\r\nHost: tracker.test\r\nConnection: close\r\n\r\n`, { expect: 1 });
      expect({ target, status: replies[0]?.status }).toEqual({ target, status });
      expect(text).toContain(body);
    }
  });
});

describe("the tracker's HTTP/1.1 server on Bun", () => {
  test("a client pipelining 32 MiB while its answers wait is not read into memory: the server stops reading at 16 queued requests", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Each answer waits, as an announce waits for Redis; the gate opens once the client is held back.
    const server = serveHttp1({ hostname: "127.0.0.1", port: 0, handler: async () => (await gate, new Response("ok")), onHandlerError: () => {} });
    // 2048 requests of 16 KiB (a long query), back to back: 32 MiB.
    const one = new TextEncoder().encode(`GET /announce?${"x".repeat(16 * 1024 - 40)} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const block = new Uint8Array(one.length * 64);
    for (let i = 0; i < 64; i++) block.set(one, i * one.length);
    const blocks = 32;
    const perBlock = 64;
    let received = "";
    let flushed = false;
    const socket = connect({ host: "127.0.0.1", port: server.port });
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    const answers = () => received.split("HTTP/1.1 200").length - 1;
    try {
      for (let i = 0; i < blocks; i++) socket.write(block, i === blocks - 1 ? () => (flushed = true) : undefined);
      // Until the server stops reading, or (before the fix) has read all 32 MB. A safety deadline only.
      for (let waited = 0; waited < 60_000 && !flushed && server.load().pausedConnections === 0; waited += 10) await Bun.sleep(10);
      const held = server.load().heldBytes;
      expect(held).toBeLessThan(1 << 20);
      release();
      // Everything is still answered, in order, once answers flow.
      for (let waited = 0; waited < 120_000 && answers() < blocks * perBlock; waited += 20) await Bun.sleep(20);
      expect(answers()).toBe(blocks * perBlock);
    } finally {
      release();
      socket.destroy();
      server.stop();
    }
  }, 180_000);
});
