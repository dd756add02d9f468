// Our tracker (edge/) in this process on loopback, answering at as many announce URLs as a test wants
// (`http://127.0.0.1:<port>/<name>/announce`, all one swarm store), and recording each announce with the
// name it came to: what tests of a client's tracker list watch (who was announced to, with which event).
import { setupTracker } from "../../edge/server-setup.ts";

export interface Announce {
  /** The <name> of the URL it came to. */
  tracker: string;
  infoHash: string;
  /** `started`, `completed`, `stopped`, or "" for a regular announce. */
  event: string;
}

export interface RecordingTracker {
  /** The announce URL named `name`. */
  url(name: string): string;
  readonly announces: Announce[];
  /** The announces that came to `name` for the info hash (hex). */
  to(name: string, infoHash: string): Announce[];
  /** Replies at `name` wait until release(name) (the announce is recorded when it comes). */
  hold(name: string): void;
  release(name: string): void;
  stop(): void;
}

/**
 * Its interval is an hour unless `intervalS` says otherwise: the announces that come are the ones a test
 * causes (a shorter one lets a test watch the regular announces too).
 */
export function startRecordingTracker(intervalS = 3600): RecordingTracker {
  const setup = setupTracker({ TRACKER_INTERVAL: String(intervalS), TRACKER_INTERVAL_SPREAD: "0" }, { clientIp: () => "127.0.0.1", withoutUpstash: "memory" });
  const announces: Announce[] = [];
  const held = new Map<string, (() => void)[]>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url);
      const match = /^\/([^/]+)\/announce$/.exec(url.pathname);
      if (!match) return new Response("not found", { status: 404 });
      const infoHash = rawParam(url.search, "info_hash");
      announces.push({ tracker: match[1]!, infoHash, event: url.searchParams.get("event") ?? "" });
      url.pathname = "/announce";
      const waiting = held.get(match[1]!);
      if (waiting) await new Promise<void>((resolve) => waiting.push(resolve));
      return setup.app.fetch(new Request(url, request));
    },
  });
  return {
    url: (name) => `http://127.0.0.1:${server.port}/${name}/announce`,
    announces,
    to: (name, infoHash) => announces.filter((a) => a.tracker === name && a.infoHash === infoHash),
    hold: (name) => void held.set(name, held.get(name) ?? []),
    release(name) {
      const waiting = held.get(name) ?? [];
      held.delete(name);
      for (const go of waiting) go();
    },
    stop: () => void server.stop(true),
  };
}

/** A query parameter's bytes as hex (URLSearchParams would read them as UTF-8). */
function rawParam(search: string, name: string): string {
  const raw = new RegExp(`[?&]${name}=([^&]*)`).exec(search)?.[1] ?? "";
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "%") {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(raw.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("hex");
}
