// Deno entry: `deno serve --allow-net --allow-env edge/adapter/deno.ts`. Memory store unless the
// UPSTASH_REDIS_REST_URL/_TOKEN variables are set.
import { getConnInfo } from "hono/deno";
import { setupTracker } from "../server-setup.ts";

const { app } = setupTracker(Deno.env.toObject(), { clientIp: (c) => getConnInfo(c).remote.address, withoutUpstash: "memory" });

export default { fetch: app.fetch } satisfies Deno.ServeDefaultExport;
