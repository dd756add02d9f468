// Runtimes build `request.url` from the Host header, and a request can come without a usable one:
// HTTP/1.0 has no Host (ctorrent sends none), and a client can send garbage (`Host: a b`). Bun then
// hands over a relative URL ("/announce?..."), Deno an absolute one that does not parse
// ("http://a b/announce?..."). Routing never parses the URL: the path and the query are cut out of
// the text, so it works on every shape, and the Host is judged apart (HostCheck), only where it matters.
import { getPath } from "hono/utils/url";

/** The request's path, for Hono's router: Hono's own reading, taught that a URL may be relative. */
export function requestPath(request: Request): string {
  const url = request.url;
  // Hono looks for the first "/" after "scheme://"; a relative URL has no scheme to skip.
  if (url.charCodeAt(0) === 47) return getPath(relativeAsRequest(url));
  // Deno passes an absolute-form target on as it came: in "http://x?y" the authority runs into the
  // query, the path is empty, and Hono would take it from the first "/" anywhere after (in the query),
  // or find none and leave the router nothing to match (it threw: a 500). An empty path is the root.
  const scheme = url.indexOf("://");
  if (scheme >= 0) {
    const authorityEnd = url.slice(scheme + 3).search(/[/?#]/);
    if (authorityEnd < 0 || url.charCodeAt(scheme + 3 + authorityEnd) !== 47) return "/";
  }
  return getPath(request);
}

function relativeAsRequest(url: string): Request {
  // getPath reads only `.url`; the placeholder origin is never shown to anyone.
  return { url: `http://host.invalid${url}` } as Request;
}

/**
 * The origin a server that must build an absolute URL (a Request needs one) gives a request without a
 * usable Host; HostCheck counts it as none. `.invalid` cannot be a real name (RFC 6761).
 */
export const NO_HOST_ORIGIN = "http://no-usable-host.invalid";

/**
 * Whether a request URL names a usable host (it parses as a URL). Remembers the last origin found
 * good: a tracker is reached under one or two names, so the full parse runs only when the Host changes.
 */
export class HostCheck {
  /** "scheme://authority/" of the last URL that parsed; what follows the authority cannot make a URL invalid. */
  private goodOrigin = "";

  usable(url: string): boolean {
    if (this.goodOrigin !== "" && url.startsWith(this.goodOrigin)) return true;
    if (url.startsWith(NO_HOST_ORIGIN) && url.charCodeAt(NO_HOST_ORIGIN.length) === 47) return false;
    const scheme = url.indexOf("://");
    if (scheme <= 0) return false;
    if (!URL.canParse(url)) return false;
    // Remembered only when a "/" ends the authority; "http://x?y" (Deno, absolute-form) is checked each time.
    const authorityEnd = url.slice(scheme + 3).search(/[/?#]/);
    if (authorityEnd >= 0 && url.charCodeAt(scheme + 3 + authorityEnd) === 47) this.goodOrigin = url.slice(0, scheme + 3 + authorityEnd + 1);
    return true;
  }
}
