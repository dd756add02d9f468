// The @upstash/redis client as the Redis stores use it: the slice of its API they call, and its failures
// as the one StoreUnavailableError the app knows how to answer. Apart from the stores so that the swarm
// store (upstash.ts) and the accounts (upstash-accounts.ts) share it without importing each other.
import { errors, type Redis } from "@upstash/redis/cloudflare";
import { StoreUnavailableError } from "./swarm-store.ts";

/** The slice of the @upstash/redis client the stores use (any of its platform entries fits). */
export type RedisClient = Pick<Redis, "evalsha" | "eval" | "pipeline" | "scan" | "hget" | "hgetall" | "hmget" | "zcard" | "zrange">;

/**
 * The failure as the log may show it. The client's error messages end with the whole command
 * (", command was: [...]"), which holds peer ids and addresses: only the text before it is kept.
 */
export function storeFailure(what: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  if (error instanceof errors.UpstashJSONParseError) {
    return new StoreUnavailableError("bad-reply", `Redis (${what}) answered with something that is not JSON`, { cause: error });
  }
  if (error instanceof errors.UpstashError) {
    const reason = error.message.split(", command was:")[0]!.slice(0, 200);
    return new StoreUnavailableError("backend-error", `Redis (${what}) failed: ${reason}`, { cause: error });
  }
  // Anything else came from fetch: no HTTP answer at all.
  const text = error instanceof Error ? error.message.slice(0, 200) : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  return new StoreUnavailableError("unreachable", `Redis (${what}) is unreachable: ${text}${typeof code === "string" ? ` (${code})` : ""}`, { cause: error });
}
