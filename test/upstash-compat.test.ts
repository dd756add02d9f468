// The local Upstash-compatible server, driven by @upstash/redis itself against a real redis-server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { stripUpstashFlags } from "../edge/local/upstash-compat/script-flags.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";

const FLAGGED_ECHO = "#!lua flags=allow-key-locking\nreturn {KEYS[1], ARGV[1]}";

describe("stripUpstashFlags", () => {
  test("drops allow-key-locking and keeps other flags and the body", () => {
    expect(stripUpstashFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua\nreturn 1");
    expect(stripUpstashFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe("#!lua flags=no-writes\nreturn 1");
    expect(stripUpstashFlags("return 1")).toBe("return 1");
  });
});

describe.skipIf(!needs(PROGRAMS.redis))("Upstash-compatible server with @upstash/redis", () => {
  let stack: RedisStack;
  let redis: Redis;

  const client = (token: string, extra: Partial<ConstructorParameters<typeof Redis>[0]> = {}) =>
    new Redis({ url: stack.restUrl, token, enableTelemetry: false, enableAutoPipelining: false, retry: false, ...extra });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(stack.restUrl + path, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    stack = await startRedisStack();
    redis = client(stack.token);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("sets and gets strings, including non-ASCII and control characters, exactly", async () => {
    const value = 'plain ascii, é, ☃, 🐝, \u0000\u0001\u007f and a "quote"';
    expect(await redis.set("text", value)).toBe("OK");
    expect(await redis.get<string>("text")).toBe(value);
    expect(await redis.get("missing")).toBeNull();
  });

  test("returns bytes that are not UTF-8 exactly when base64 encoding is asked for", async () => {
    await post("/", ["EVAL", "return redis.call('SET', KEYS[1], string.char(0, 255, 128, 10))", "1", "raw"]);
    const reply = (await (await post("/", ["GET", "raw"], { "Upstash-Encoding": "base64" })).json()) as { result: string };
    expect([...Buffer.from(reply.result, "base64")]).toEqual([0, 255, 128, 10]);
  });

  test("passes numbers through and turns number arguments into Redis strings", async () => {
    expect(await redis.set("count", 41)).toBe("OK");
    expect(await redis.incr("count")).toBe(42);
    expect(await redis.zadd("scores", { score: 1.5, member: "a" }, { score: 3, member: "b" })).toBe(2);
    expect(await redis.zcount("scores", "(1.5", "+inf")).toBe(1);
  });

  test("runs a pipeline and reports each command's result or error in order", async () => {
    const results = await redis.pipeline().set("p1", "one").get("p1").incr("p1").lpush("list", "x").exec({ keepErrors: true });
    expect(results[0]!.result).toBe("OK");
    expect(results[1]!.result).toBe("one");
    expect(results[2]!.error).toContain("not an integer");
    expect(results[3]!.result).toBe(1);
  });

  test("runs multi-exec as one transaction", async () => {
    const results = await redis.multi().set("tx", 1).incr("tx").incr("tx").get("tx").exec();
    expect(results).toEqual(["OK", 2, 3, 3]);
  });

  test("refuses a multi-exec whose command Redis rejects while queueing", async () => {
    const response = await post("/multi-exec", [["SET", "tx2", "1"], ["NOSUCHCOMMAND"]]);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string };
    expect(body.error).toContain("unknown command");
    expect(await redis.get("tx2")).toBeNull();
  });

  test("accepts Upstash's allow-key-locking script flag on EVAL", async () => {
    expect(await redis.eval(FLAGGED_ECHO, ["k"], ["v"])).toEqual(["k", "v"]);
  });

  test("answers EVALSHA for a flagged script by the SHA of the script as the client sent it", async () => {
    const script = redis.createScript<string[]>(FLAGGED_ECHO.replace("{KEYS[1], ARGV[1]}", "{ARGV[1], KEYS[1]}"));
    expect(await script.exec(["key"], ["first"])).toEqual(["first", "key"]); // NOSCRIPT, then EVAL
    const before = stack.compat.requests["/"]!;
    expect(await script.evalsha(["key"], ["second"])).toEqual(["second", "key"]);
    expect(stack.compat.requests["/"]! - before).toBe(1);
  });

  test("SCRIPT LOAD of a flagged script returns the client's SHA, which SCRIPT EXISTS and EVALSHA then know", async () => {
    const script = "#!lua flags=allow-key-locking\nreturn 7";
    const sha = await redis.scriptLoad(script);
    const expected = new Bun.CryptoHasher("sha1").update(script).digest("hex");
    expect(sha).toBe(expected);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.evalsha(sha, [], [])).toBe(7);
  });

  test("surfaces Redis errors as errors, with HTTP 400 and an error field", async () => {
    await redis.set("notanumber", "abc");
    await expect(redis.incr("notanumber")).rejects.toThrow(/not an integer/);
    const response = await post("/", ["INCR", "notanumber"]);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain("not an integer");
  });

  test("rejects a wrong or missing token with 401", async () => {
    await expect(client("wrong-token").get("text")).rejects.toThrow(/Unauthorized/);
    const response = await fetch(`${stack.restUrl}/`, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(response.status).toBe(401);
  });

  test("rejects a body that is not a command array", async () => {
    const response = await post("/", { not: "a command" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain("JSON array");
  });

  test("answers 503 with an error field when redis-server is gone", async () => {
    const own = await startRedisStack();
    try {
      const ownClient = new Redis({ url: own.restUrl, token: own.token, enableTelemetry: false, enableAutoPipelining: false, retry: false });
      expect(await ownClient.set("k", "v")).toBe("OK");
      const { RedisConnection } = await import("../edge/local/upstash-compat/redis-connection.ts");
      const admin = await RedisConnection.open({ host: "127.0.0.1", port: own.redisPort });
      await admin.send([["SHUTDOWN", "NOSAVE"]]).catch(() => {}); // the connection drops as Redis exits
      const response = await fetch(`${own.restUrl}/`, {
        method: "POST",
        headers: { authorization: `Bearer ${own.token}` },
        body: JSON.stringify(["GET", "k"]),
      });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toContain("redis unavailable");
      await expect(ownClient.get("k")).rejects.toThrow(/redis unavailable/);
    } finally {
      await own.stop();
    }
  });
});
