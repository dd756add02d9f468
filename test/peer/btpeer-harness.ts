// Helpers for btpeer's end-to-end tests: our tracker (embedded memory store) as a child process, torrents
// made with our own create API, and btpeer processes run from source whose --json events we follow.
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile } from "../support/files.ts";
import { seedFixture, type SeedFixture } from "../support/seed-fixture.ts";
import { freePort } from "../support/ports.ts";
import { spawnService, type Service } from "../support/processes.ts";
import { jsonLines, waitForJson } from "../support/json-lines.ts";

// Made here before test/support/seed-fixture.ts had it; many tests still take it from here.
export { makeTorrent } from "../support/seed-fixture.ts";

export const ROOT = path.resolve(import.meta.dir, "../..");
export const CLI = path.join(ROOT, "peer/cli.ts");

export interface Tracker {
  service: Service;
  announce: string;
  stop(): Promise<number>;
}

/** `npm start`: the Bun tracker on the embedded memory store, on a free loopback port. */
export async function startTracker(): Promise<Tracker> {
  const port = freePort();
  const service = await spawnService({
    name: "tracker",
    cmd: [process.execPath, path.join(ROOT, "edge/adapter/bun.ts")],
    env: { PORT: String(port), HOST: "127.0.0.1", UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
    ready: { port },
  });
  return { service, announce: `http://127.0.0.1:${port}/announce`, stop: () => service.stop() };
}

export interface BtpeerEvent {
  event: string;
  [field: string]: unknown;
}

export interface Btpeer {
  service: Service;
  port: number;
  address: string;
  events(): BtpeerEvent[];
  waitFor(predicate: (e: BtpeerEvent) => boolean, timeoutMs?: number): Promise<BtpeerEvent>;
  /** The last event of a kind. */
  last(kind: string): BtpeerEvent | undefined;
  stop(): Promise<number>;
}

/**
 * Runs `btpeer <args> --json --port <free>` from source (or `binary` when given) and waits for `started`
 * (or the event named by `readyEvent`: `magnet` for a magnet link, whose `started` follows its metadata).
 */
export async function startBtpeer(
  args: string[],
  opts: { name?: string; binary?: string; cwd?: string; port?: number; env?: Record<string, string>; readyEvent?: string } = {},
): Promise<Btpeer> {
  const port = opts.port ?? freePort();
  const cmd = opts.binary ? [opts.binary, ...args] : [process.execPath, CLI, ...args];
  cmd.push("--json", "--port", String(port));
  const service = await spawnService({
    name: opts.name ?? `btpeer ${args[0]}`,
    cmd,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ready: { line: new RegExp(`"event":"${opts.readyEvent ?? "started"}"`) },
    readyTimeoutMs: 60_000,
    graceMs: 5_000,
  });
  const events = () => jsonLines<BtpeerEvent>(service);
  return {
    service,
    port,
    address: `127.0.0.1:${port}`,
    events,
    waitFor: (predicate, timeoutMs = 120_000) => waitForJson(service, predicate, timeoutMs),
    last(kind) {
      const all = events().filter((e) => e.event === kind);
      return all[all.length - 1];
    },
    stop: () => service.stop(),
  };
}

export const isEvent = (kind: string) => (e: BtpeerEvent) => e.event === kind;

/**
 * A plain btpeer seeder (no DHT, no encryption) of one random file of `bytes` in 1 MiB pieces, with the
 * file's bytes, for tests that script a leecher against it and check every block.
 */
export async function startRandomFileSeeder(prefix: string, bytes: number, seed: number): Promise<SeedFixture & { content: Uint8Array; seeder: Btpeer }> {
  const fixture = await seedFixture(prefix, "payload.bin", 1024 * 1024, (file) => makeRandomFile(file, bytes, seed));
  const content = new Uint8Array(fs.readFileSync(fixture.source));
  const seeder = await startBtpeer(["seed", fixture.torrent, "--dir", path.join(fixture.dir, "seed"), "--no-dht", "--encryption", "disable"]);
  return { ...fixture, content, seeder };
}

/**
 * A btpeer holding only the first `pieces` pieces of the one-file torrent of `source` (its copy of the file
 * cut there, in `dir`), serving those and nothing more: a download from it alone never completes, so a test
 * that stops, pauses or kills a download before its end does not race the download's speed. It runs as a
 * leecher whose only --peer is a port nobody listens on (with no peer at all it would give up at once).
 */
export async function startPartialSeeder(
  torrent: string,
  source: string,
  opts: { pieceLength: number; pieces: number; dir: string; args?: string[]; name?: string },
): Promise<Btpeer> {
  fs.mkdirSync(opts.dir, { recursive: true });
  const bytes = fs.readFileSync(source);
  fs.writeFileSync(path.join(opts.dir, path.basename(source)), bytes.subarray(0, opts.pieces * opts.pieceLength));
  return startBtpeer(["download", torrent, "--out", opts.dir, "--peer", "127.0.0.1:1", ...(opts.args ?? [])], {
    name: opts.name ?? `seeder of the first ${opts.pieces} pieces`,
  });
}
