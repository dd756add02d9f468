// The Upstash-compatible server as its own process: `bun edge/local/upstash-compat/main.ts`
// with REDIS_HOST, REDIS_PORT (default 127.0.0.1:6379), UPSTASH_COMPAT_TOKEN (required) and
// UPSTASH_COMPAT_PORT (default: a free port). Prints the URL on the first line of stdout.
import { startUpstashCompat } from "./server.ts";

const token = process.env.UPSTASH_COMPAT_TOKEN;
if (!token) {
  console.error("upstash-compat: set UPSTASH_COMPAT_TOKEN (the token clients must send as Bearer)");
  process.exit(2);
}
const compat = startUpstashCompat({
  redis: { host: process.env.REDIS_HOST ?? "127.0.0.1", port: Number(process.env.REDIS_PORT ?? 6379) },
  token,
  port: Number(process.env.UPSTASH_COMPAT_PORT ?? 0),
});
console.log(compat.url);
const stop = () => void compat.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
