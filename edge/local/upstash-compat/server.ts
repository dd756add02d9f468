// A local stand-in for Upstash's REST API in front of a real redis-server, for development and tests:
// POST / (one command), POST /pipeline, POST /multi-exec, Bearer token, `Upstash-Encoding: base64`.
import { requestPath } from "../../request-url.ts";
import { RedisLink, type RedisAddress } from "./redis-connection.ts";
import { RespError, RespStatus, type RespValue } from "./resp.ts";
import { ScriptTranslator } from "./script-flags.ts";

export interface UpstashCompatOptions {
  redis: RedisAddress;
  token: string;
  /** 0 (default) picks a free port. */
  port?: number;
  hostname?: string;
}

export interface UpstashCompatServer {
  /** Base URL for UPSTASH_REDIS_REST_URL. */
  url: string;
  port: number;
  token: string;
  /** HTTP requests served per path ("/", "/pipeline", "/multi-exec"), for tests and benchmarks. */
  readonly requests: Record<string, number>;
  stop(): Promise<void>;
}

type Reply = { result: unknown } | { error: string };

const utf8 = new TextDecoder();

class BadRequest extends Error {}

export function startUpstashCompat(options: UpstashCompatOptions): UpstashCompatServer {
  const link = new RedisLink(options.redis);
  const scripts = new ScriptTranslator();
  const requests: Record<string, number> = { "/": 0, "/pipeline": 0, "/multi-exec": 0 };

  const server = Bun.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    development: false,
    async fetch(request) {
      // requestPath: a Host-less request has a relative URL, which `new URL` would throw on.
      const path = requestPath(request).replace(/\/+$/, "") || "/";
      if (request.headers.get("authorization") !== `Bearer ${options.token}`) {
        return Response.json({ error: "Unauthorized" }, { status: 401 });
      }
      if (request.method !== "POST") return Response.json({ error: "ERR only POST is supported here" }, { status: 405 });
      if (!(path in requests)) return Response.json({ error: `ERR unknown path ${path}` }, { status: 404 });
      requests[path]!++;
      const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
      try {
        const body: unknown = await request.json().catch(() => {
          throw new BadRequest("ERR the request body is not JSON");
        });
        if (path === "/") return await single(body, base64);
        const replies = await batch(body, base64, path === "/multi-exec");
        // A whole transaction refused is one error, which the client must see as a failed request.
        return Response.json(replies, { status: Array.isArray(replies) ? 200 : 400 });
      } catch (error) {
        if (error instanceof BadRequest) return Response.json({ error: error.message }, { status: 400 });
        // Redis itself is unreachable: a server-side failure, like Upstash's 5xx.
        return Response.json({ error: `ERR redis unavailable: ${(error as Error).message}` }, { status: 503 });
      }
    },
  });

  async function single(body: unknown, base64: boolean): Promise<Response> {
    const { args, loadedSha } = scripts.translate(toCommand(body));
    const [reply] = await link.send([args]);
    const out = toReply(reply ?? null, base64, loadedSha);
    return Response.json(out, { status: "error" in out ? 400 : 200 });
  }

  async function batch(body: unknown, base64: boolean, atomic: boolean): Promise<Reply[] | { error: string }> {
    if (!Array.isArray(body) || body.length === 0) throw new BadRequest("ERR the body must be a non-empty array of commands");
    const translated = body.map((c) => scripts.translate(toCommand(c)));
    const commands = translated.map((t) => t.args);
    if (!atomic) {
      const replies = await link.send(commands);
      return replies.map((r, i) => toReply(r, base64, translated[i]!.loadedSha));
    }
    // MULTI, the commands and EXEC leave in one write on one connection, so nothing interleaves.
    const replies = await link.send([["MULTI"], ...commands, ["EXEC"]]);
    const queued = replies.slice(1, -1).find((r) => r instanceof RespError);
    const exec = replies[replies.length - 1];
    if (queued instanceof RespError) return { error: queued.message };
    if (exec instanceof RespError) return { error: exec.message };
    if (!Array.isArray(exec)) return { error: "ERR transaction aborted" };
    return exec.map((r, i) => toReply(r, base64, translated[i]!.loadedSha));
  }

  return {
    url: `http://${server.hostname}:${server.port}`,
    port: server.port!,
    token: options.token,
    requests,
    async stop() {
      link.close();
      await server.stop(true);
    },
  };
}

/** A command as @upstash/redis sends it: a JSON array of strings, numbers and booleans. */
function toCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest("ERR a command must be a non-empty JSON array");
  return value.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new BadRequest(`ERR command arguments must be strings or numbers, got ${JSON.stringify(v)}`);
  });
}

function toReply(reply: RespValue, base64: boolean, loadedSha?: string): Reply {
  if (reply instanceof RespError) return { error: reply.message };
  if (loadedSha !== undefined) return { result: encodeString(new TextEncoder().encode(loadedSha), base64) };
  return { result: toJson(reply, base64) };
}

function toJson(value: RespValue, base64: boolean): unknown {
  if (value === null || typeof value === "number") return value;
  if (value instanceof Uint8Array) return encodeString(value, base64);
  if (value instanceof RespStatus) return base64 ? (value.text === "OK" ? "OK" : btoa(value.text)) : value.text;
  if (value instanceof RespError) return value.message; // an error nested in an array (e.g. inside EXEC)
  return value.map((v) => toJson(v, base64));
}

/** With base64 the bytes survive exactly; without it they are read as UTF-8, as Upstash does. */
function encodeString(bytes: Uint8Array, base64: boolean): string {
  return base64 ? Buffer.from(bytes).toString("base64") : utf8.decode(bytes);
}
