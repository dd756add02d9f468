// One HTTP(S) range request of a web seed: `length` bytes of a file from `start`, streamed to a consumer
// as they arrive, never buffered whole. Redirects are followed by hand, a bounded number of times, and
// only to http(s). A body longer than asked is cut (we stop reading and drop the connection); a shorter
// one is an error. A server that ignores Range is used only when the range starts at the file's first
// byte (the first bytes of a 200 are then exactly ours); otherwise it cannot serve us at all.
import { WebSeedError } from "./errors.ts";

export const MAX_REDIRECTS = 5;

export interface RangeRequest {
  url: string;
  start: number;
  length: number;
}

/**
 * Fetches the range, handing each arriving part to `consume` (the view is valid during the call only);
 * `consume` returning false ends the request early (the caller gave up). Rejects with WebSeedError, or
 * with `signal.reason` once the signal aborts.
 */
export async function fetchRange(request: RangeRequest, signal: AbortSignal, consume: (bytes: Uint8Array) => boolean): Promise<void> {
  let url = request.url;
  for (let hops = 0; ; hops++) {
    const response = await send(url, request, signal);
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      await response.body?.cancel().catch(() => {});
      url = nextHop(url, response.headers.get("location")!, hops);
      continue;
    }
    return readBody(response, request, signal, consume);
  }
}

async function send(url: string, request: RangeRequest, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, {
      headers: { range: `bytes=${request.start}-${request.start + request.length - 1}`, "accept-encoding": "identity" },
      redirect: "manual",
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new WebSeedError("network", `${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function nextHop(from: string, location: string, hops: number): string {
  if (hops >= MAX_REDIRECTS) throw new WebSeedError("bad-redirect", `${from}: more than ${MAX_REDIRECTS} redirects`);
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new WebSeedError("bad-redirect", `${from}: redirect to an invalid URL`);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") throw new WebSeedError("bad-redirect", `${from}: redirect to ${next.protocol} URL`);
  return next.href;
}

function checkHead(response: Response, request: RangeRequest): void {
  const { status } = response;
  const where = `${request.url} bytes ${request.start}+${request.length}`;
  if (status === 206) {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range")?.trim() ?? "");
    if (!match || Number(match[1]) !== request.start) {
      throw new WebSeedError("bad-content-range", `${where}: answered with Content-Range "${response.headers.get("content-range") ?? ""}"`);
    }
  } else if (status === 200) {
    if (request.start !== 0) throw new WebSeedError("no-ranges", `${where}: the server ignores range requests (200 with the whole file)`);
  } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    throw new WebSeedError("file-refused", `${where}: HTTP ${status}`);
  } else {
    throw new WebSeedError("http-status", `${where}: HTTP ${status}`);
  }
  const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") throw new WebSeedError("content-encoded", `${where}: body encoded as ${encoding}`);
}

async function readBody(response: Response, request: RangeRequest, signal: AbortSignal, consume: (bytes: Uint8Array) => boolean): Promise<void> {
  try {
    checkHead(response, request);
  } catch (error) {
    await response.body?.cancel().catch(() => {});
    throw error;
  }
  if (!response.body) throw new WebSeedError("short-body", `${request.url}: no body`);
  const reader = response.body.getReader();
  let left = request.length;
  try {
    while (left > 0) {
      const { done, value } = await reader.read();
      if (done) throw new WebSeedError("short-body", `${request.url}: the body ended ${left} bytes short of the ${request.length} asked for`);
      const part = value.length > left ? value.subarray(0, left) : value;
      left -= part.length;
      if (part.length > 0 && !consume(part)) return;
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof WebSeedError) throw error;
    throw new WebSeedError("network", `${request.url}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    // Whatever the server still sends (a longer body than asked, or a request given up) is not read.
    void reader.cancel().catch(() => {});
  }
}
