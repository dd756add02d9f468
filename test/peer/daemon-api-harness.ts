// The real daemon for API tests (daemon-harness.ts's `dist/btpeer daemon`, its API on a free port), with
// the token it wrote and calls that carry it.
import * as fs from "node:fs";
import path from "node:path";
import { makeTempDir, removeDir } from "../support/processes.ts";
import { DIST, type DaemonProcess, startDaemon } from "./daemon-harness.ts";

export const BINARY = DIST;

export interface ApiDaemon extends DaemonProcess {
  /** http://127.0.0.1:<port> of the API, wherever it is bound. */
  api: string;
  token: string;
  peerPort: number;
  /** fetch() of the API with the token (unless `headers` says otherwise). */
  call(method: string, route: string, init?: { body?: BodyInit; headers?: Record<string, string> }): Promise<Response>;
  /** call() and the JSON of a reply that must have `status`. */
  json<T = unknown>(method: string, route: string, status: number, init?: { body?: BodyInit; headers?: Record<string, string> }): Promise<T>;
  /** Stops it (as SIGTERM does) and starts a daemon again over the same folders, with the same options. */
  restart(): Promise<ApiDaemon>;
}

export function requireBinary(): void {
  if (!fs.existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run build\` first (npm test does)`);
}

/**
 * A daemon on fresh folders (removed by stop()); `bind` is the API's address (default 127.0.0.1), requests
 * still go to 127.0.0.1; `extra`, more of its options.
 */
export async function startApiDaemon(options: { bind?: string; extra?: string[] } = {}): Promise<ApiDaemon> {
  return startOn(makeTempDir("btpeer-api-daemon-"), options);
}

async function startOn(root: string, options: { bind?: string; extra?: string[] }): Promise<ApiDaemon> {
  const dirs = { stateDir: path.join(root, "state"), downloadDir: path.join(root, "downloads"), watchDir: path.join(root, "watch") };
  const bind = options.bind ?? "127.0.0.1";
  const daemon = await startDaemon({ ...dirs, extra: ["--api", `${bind.includes(":") ? `[${bind}]` : bind}:0`, ...(options.extra ?? [])] });
  const token = fs.readFileSync(path.join(dirs.stateDir, "api-token"), "utf8").trim();
  const api = `http://127.0.0.1:${new URL(daemon.api).port}`;
  const call: ApiDaemon["call"] = (method, route, init = {}) =>
    fetch(`${api}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
  return {
    ...daemon,
    api,
    token,
    peerPort: daemon.port,
    call,
    async json(method, route, status, init) {
      const response = await call(method, route, init);
      const text = await response.text();
      if (response.status !== status) throw new Error(`${method} ${route}: expected ${status}, got ${response.status}: ${text}`);
      return JSON.parse(text);
    },
    async stop() {
      const code = await daemon.stop();
      removeDir(root);
      return code;
    },
    async restart() {
      await daemon.stop();
      return startOn(root, options);
    },
  };
}

/** Reads a Server-Sent Events stream as {event, data} records until `until` says stop or the stream ends. */
export async function readEvents(
  response: Response,
  until: (event: { event: string; data: Record<string, unknown> }, all: { event: string; data: Record<string, unknown> }[]) => boolean,
): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split("\n").filter((l) => !l.startsWith(":"));
        if (lines.length === 0) continue;
        const name = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
        const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
        if (data.length !== 1) throw new Error(`an event with ${data.length} data lines: ${block}`);
        const record = { event: name, data: JSON.parse(data[0]!) as Record<string, unknown> };
        events.push(record);
        if (until(record, events)) return events;
      }
    }
  } finally {
    await reader.cancel();
  }
}
