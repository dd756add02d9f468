// `GET /announce` answered without Hono: the request nearly every client sends, and the one a tracker
// must answer cheaply. Skipping Hono's router, its Context and HonoRequest and the handler's promise
// chain saves a few µs of CPU per announce on Bun (bench/tracker-http.ts's load, paired runs:
// one announce per connection 54.4 -> 52.5 µs, keep-alive 35.0 -> 31.8). The answer is the route's
// own (announce.ts), errors included: the same body, headers and status as app.ts's errorResponse
// gives on /announce. Anything else goes through Hono as before.
import { connectionIp, resolveClientIp, trustsConnectionOnly } from "../client-ip.ts";
import { RawQuery, rawSearchLength } from "../query.ts";
import { answerAnnounce, answerAnnounceBody } from "./announce.ts";
import { checkQuerySize, failureBody, trackerFailure, type RequestIp, type TrackerContext } from "./common.ts";

const PATH = "/announce";

/**
 * Whether the request target is exactly `/announce`, with or without a query, in a URL as runtimes
 * give it (absolute, or relative without a usable Host). Anything else, a percent-encoded or
 * passkey path included, is left to Hono's router, which decides as it always has.
 */
export function isPlainAnnounce(url: string): boolean {
  let path = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const scheme = url.indexOf("://");
    if (scheme < 0) return false;
    // The authority ends at the first "/", "?" or "#"; only a "/" starts a path.
    path = scheme + 3;
    for (; path < url.length; path++) {
      const c = url.charCodeAt(path);
      if (c === 47 || c === 63 || c === 35) break;
    }
    if (url.charCodeAt(path) !== 47) return false;
  }
  if (!url.startsWith(PATH, path)) return false;
  const end = path + PATH.length;
  return end === url.length || url.charCodeAt(end) === 63 /* ? */;
}

/**
 * The answer to a GET whose URL (`url`, the request's) passed isPlainAnnounce; `env` is what the server
 * passed with it. A Response when the store answered at once (the memory store), else a promise of one.
 */
export function plainAnnounce(request: Request, url: string, env: unknown, t: TrackerContext, requestIp: RequestIp): Response | Promise<Response> {
  try {
    const reply = answer(request, url, env, t, requestIp);
    return reply instanceof Response ? reply : reply.catch((err: unknown) => failureReply(err, t));
  } catch (err) {
    return failureReply(err, t);
  }
}

function answer(request: Request, url: string, env: unknown, t: TrackerContext, requestIp: RequestIp): Response | Promise<Response> {
  // The same steps in the same order as the Hono route (app.ts admit, then announce.ts), so the same
  // request fails with the same error either way.
  checkQuerySize(rawSearchLength(url), t.config);
  const query = RawQuery.fromUrl(url);
  // Nothing but the connection trusted (the default): its address read directly, without the two
  // closures resolveClientIp takes, made per announce.
  const ip = trustsConnectionOnly(t.config)
    ? connectionIp(requestIp(request, env))
    : resolveClientIp(
        query,
        t.config,
        (name) => request.headers.get(name) ?? undefined,
        () => requestIp(request, env),
      );
  return answerAnnounce(query, ip, t);
}

/**
 * plainAnnounce for a server that writes its own HTTP (adapter/ffi-http-server.ts): the URL (a request
 * target such as "/announce?...") passed isPlainAnnounce, `address` is the connection's remote address
 * and `header` reads the request's headers (only looked at when proxies are trusted). The common reply
 * comes as the bytes of a 200's body (with the Content-Type and Cache-Control a bencoded reply has);
 * anything else, failures included, as a Response.
 */
export function plainAnnounceBody(
  url: string,
  address: string | undefined,
  header: (name: string) => string | undefined,
  t: TrackerContext,
): Uint8Array | Response | Promise<Response> {
  try {
    checkQuerySize(rawSearchLength(url), t.config);
    const query = RawQuery.fromUrl(url);
    const ip = trustsConnectionOnly(t.config) ? connectionIp(address) : resolveClientIp(query, t.config, header, () => address);
    const reply = answerAnnounceBody(query, ip, t);
    return reply instanceof Promise ? reply.catch((err: unknown) => failureReply(err, t)) : reply;
  } catch (err) {
    return failureReply(err, t);
  }
}

/** A failure as errorResponse answers it on /announce: 200 (clients read only a 200's body), the code in X-Tracker-Error. */
function failureReply(err: unknown, t: TrackerContext): Response {
  const failure = trackerFailure(err, t.log, t.counters);
  return new Response(failureBody(failure) as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { "X-Tracker-Error": failure.code, "Content-Type": "text/plain; charset=binary", "Cache-Control": "no-store" },
  });
}
