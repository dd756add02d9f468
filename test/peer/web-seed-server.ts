// A BEP 19 web seed for tests: Bun.serve on 127.0.0.1 serving files from memory with HTTP range requests,
// and the ways real servers go wrong, chosen per path prefix: `/files/` answers ranges properly, `/long/`
// sends more than asked, `/short/` less, `/whole/` ignores Range (200 with the whole file), `/404/` and
// `/500/` fail, `/slow/` trickles a byte at a time (slow loris, bounded), `/r/` redirects to `/files/`.
// It counts the bytes it sent of each file, so tests can tell what came from it.
import type { Server } from "bun";

export type Mode = "files" | "long" | "short" | "whole" | "404" | "500" | "slow" | "r";

export interface WebSeedServer {
  /** `http://127.0.0.1:<port>/<mode>/`, the web seed URL for that behaviour. */
  url(mode: Mode): string;
  /** Bytes of file content sent per path (below the mode prefix), whatever the mode. */
  readonly served: Map<string, number>;
  /** Requests seen, as "<mode> <status> <path> <range>". */
  readonly log: string[];
  stop(): void;
}

const SLOW_BYTE_EVERY_MS = 200;
const SLOW_FOR_MS = 60_000;

/** `files`: path below the mode prefix (decoded, "/"-separated, no leading slash) → content. */
export function startWebSeedServer(files: Map<string, Uint8Array>): WebSeedServer {
  const served = new Map<string, number>();
  const log: string[] = [];
  const count = (path: string, n: number) => served.set(path, (served.get(path) ?? 0) + n);
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 120,
    fetch(request) {
      const url = new URL(request.url);
      const [, mode, ...rest] = url.pathname.split("/");
      const path = rest.map(decodeURIComponent).join("/");
      const range = request.headers.get("range") ?? "";
      const answer = respond(mode as Mode, path, range, url);
      log.push(`${mode} ${answer.status} ${path} ${range}`);
      return answer;
    },
  });

  function respond(mode: Mode, path: string, range: string, url: URL): Response {
    if (mode === "404") return new Response("no such file", { status: 404 });
    if (mode === "500") return new Response("broken", { status: 500 });
    if (mode === "r") return Response.redirect(`${url.origin}/files/${url.pathname.slice(3)}`, 302);
    const content = files.get(path);
    if (!content) return new Response("no such file", { status: 404 });
    if (mode === "whole") {
      count(path, content.length);
      return new Response(content as Uint8Array<ArrayBuffer>, { status: 200 });
    }
    const match = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (!match) return new Response("range wanted", { status: 400 });
    const start = Number(match[1]);
    const end = Math.min(content.length - 1, Number(match[2]));
    if (start > end) return new Response("bad range", { status: 416 });
    const headers = { "content-range": `bytes ${start}-${end}/${content.length}` };
    if (mode === "slow")
      return new Response(
        trickle(content.subarray(start, end + 1), (n) => count(path, n)),
        { status: 206, headers },
      );
    let body = content.subarray(start, end + 1);
    if (mode === "short") body = body.subarray(0, Math.floor(body.length / 2));
    count(path, body.length);
    if (mode === "long") {
      const longer = new Uint8Array(body.length + 5000).fill(0xee); // junk past the range: must be cut
      longer.set(body);
      body = longer;
    }
    return new Response(body as Uint8Array<ArrayBuffer>, { status: 206, headers });
  }

  return {
    url: (mode) => `http://127.0.0.1:${server.port}/${mode}/`,
    served,
    log,
    stop: () => void server.stop(true),
  };
}

/** A body that sends one byte every SLOW_BYTE_EVERY_MS, for at most SLOW_FOR_MS, until the client goes. */
function trickle(bytes: Uint8Array, sent: (n: number) => void): ReadableStream<Uint8Array> {
  let at = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const started = Date.now();
  return new ReadableStream({
    start(controller) {
      timer = setInterval(() => {
        if (at >= bytes.length || Date.now() - started > SLOW_FOR_MS) {
          clearInterval(timer);
          controller.close();
          return;
        }
        controller.enqueue(bytes.slice(at, at + 1));
        sent(1);
        at++;
      }, SLOW_BYTE_EVERY_MS);
    },
    cancel() {
      clearInterval(timer);
    },
  });
}
