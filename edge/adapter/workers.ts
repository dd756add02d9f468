// Cloudflare Workers entry (`wrangler deploy`). The client address is CF-Connecting-IP, set by
// Cloudflare's edge. Without Upstash secrets the tracker refuses announces with a reason naming them:
// each isolate keeping its own swarm would silently split every torrent's peers.
import { getConnInfo } from "hono/cloudflare-workers";
import { setupTrackerOrExplain, stringVars, type TrackerSetup } from "../server-setup.ts";

let tracker: TrackerSetup | undefined;

export default {
  fetch(request: Request, env: unknown, ctx: unknown): Response | Promise<Response> {
    // env is the same for every request of an isolate, so the app is built once.
    tracker ??= setupTrackerOrExplain(stringVars(env), { clientIp: (c) => getConnInfo(c).remote.address, withoutUpstash: "none" });
    return tracker.app.fetch(request, env, ctx as never);
  },
};
