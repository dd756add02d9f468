// A torrent downloaded by the real daemon from a real btpeer seeder, driven and watched only through
// the API: added as multipart, followed over Server-Sent Events (progress, then completed), measured by
// /metrics (checked by promtool, label values escaped), removed with its data. Then the API bound
// beyond loopback, and a daemon that refuses to start on a token file others can read.
import type { TorrentDetail, TorrentSummary } from "../../peer/daemon/control.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import path from "node:path";
import { PROGRAMS, needs } from "../support/system.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File, spawnService } from "../support/processes.ts";
import { parseSamples, promtoolCheck, sampleValue, seriesKey } from "../tracker/metrics-text.ts";
import { type Btpeer, makeTorrent, startBtpeer, startTracker, type Tracker } from "./btpeer-harness.ts";
import { BINARY, type ApiDaemon, readEvents, requireBinary, startApiDaemon } from "./daemon-api-harness.ts";
import { freePort } from "../support/ports.ts";

const SIZE = 6 * 1024 * 1024;
/** A name that needs escaping in a Prometheus label (a backslash is refused in names: a path separator elsewhere). */
const NAME = 'the "quoted" name.bin';

let work: string;
let tracker: Tracker;
let seeder: Btpeer;
let daemon: ApiDaemon;
let torrentFile: string;

beforeAll(async () => {
  work = makeTempDir("btpeer-api-dl-");
  fs.mkdirSync(path.join(work, "seed"));
  makeRandomFile(path.join(work, "seed", NAME), SIZE, 7);
  tracker = await startTracker();
  torrentFile = await makeTorrent(path.join(work, "seed", NAME), path.join(work, "x.torrent"), { trackers: [tracker.announce], pieceLength: 64 * 1024 });
  // Slowed so that the download lasts long enough for progress events (it is not timed).
  seeder = await startBtpeer(["seed", torrentFile, "--dir", path.join(work, "seed"), "--upload-limit", "2M"], { name: "seeder" });
  daemon = await startApiDaemon();
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await seeder?.stop();
  await tracker?.stop();
  removeDir(work);
});

async function metrics(): Promise<string> {
  const response = await daemon.call("GET", "/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return response.text();
}

describe.skipIf(!needs(PROGRAMS.promtool))("a download through the API", () => {
  test("added as multipart, followed over SSE to completed, the same bytes on disk; /metrics says so", async () => {
    const everything = await daemon.call("GET", "/api/v1/events");
    expect(everything.status).toBe(200);
    expect(everything.headers.get("content-type")).toStartWith("text/event-stream");

    const form = new FormData();
    form.append("torrent", new Blob([fs.readFileSync(torrentFile)]), "x.torrent");
    form.append("savePath", path.join(work, "got"));
    const { infoHash } = await daemon.json<{ infoHash: string }>("POST", "/api/v1/torrents", 201, { body: form });
    const mine = await daemon.call("GET", `/api/v1/events?hash=${infoHash.toUpperCase()}`);
    expect(mine.status).toBe(200);

    const [all, filtered] = await Promise.all([readEvents(everything, (e) => e.event === "completed"), readEvents(mine, (e) => e.event === "completed")]);
    for (const events of [all, filtered]) {
      for (const e of events) {
        expect(e.data.event).toBe(e.event);
        expect(e.data.infoHash).toBe(infoHash);
      }
      const progress = events.filter((e) => e.event === "progress");
      expect(progress.length).toBeGreaterThan(0);
      expect(events.at(-1)!.event).toBe("completed");
      expect(events.at(-1)!.data.have).toBe(SIZE / (64 * 1024));
    }
    expect(await sha256File(path.join(work, "got", NAME))).toBe(await sha256File(path.join(work, "seed", NAME)));

    const detail = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash}`, 200);
    expect(detail).toMatchObject({ name: NAME, progress: 1, state: "seeding" });
    expect(detail.downloaded).toBeGreaterThanOrEqual(SIZE);

    const text = await metrics();
    promtoolCheck(text);
    const samples = parseSamples(text);
    const labels = { info_hash: infoHash, name: NAME.replace(/"/g, '\\"') };
    expect(sampleValue(samples, "btpeer_torrent_pieces", labels)).toBe(SIZE / (64 * 1024));
    expect(sampleValue(samples, "btpeer_torrent_pieces_verified", labels)).toBe(SIZE / (64 * 1024));
    expect(sampleValue(samples, "btpeer_torrent_progress_ratio", labels)).toBe(1);
    expect(sampleValue(samples, "btpeer_torrent_size_bytes", labels)).toBe(SIZE);
    expect(sampleValue(samples, "btpeer_torrent_downloaded_bytes_total", labels)).toBeGreaterThanOrEqual(SIZE);
    expect(sampleValue(samples, "btpeer_torrent_hash_failures_total", labels)).toBe(0);
    expect(sampleValue(samples, "btpeer_downloaded_bytes_total")).toBeGreaterThanOrEqual(SIZE);
    expect(sampleValue(samples, "btpeer_torrents", { state: "seeding" })).toBe(1);
    expect(samples.has(seriesKey("btpeer_torrent_tracker_errors_total", labels))).toBe(true);
  }, 180_000);

  test("event streams end with their client: the listener goes, none is left behind", async () => {
    const open = async () => sampleValue(parseSamples(await metrics()), "btpeer_api_event_streams");
    // Closed streams of the test before end with their readers' cancel; wait for the daemon to see it.
    const settle = async (want: number) => {
      for (let i = 0; i < 600 && (await open()) !== want; i++) await Bun.sleep(50);
      expect(await open()).toBe(want);
    };
    await settle(0);
    const streams = await Promise.all([1, 2, 3].map(() => daemon.call("GET", "/api/v1/events")));
    await settle(3);
    await streams[0]!.body!.cancel();
    await settle(2);
    const aborter = new AbortController();
    const fourth = await fetch(`${daemon.api}/api/v1/events`, { headers: { authorization: `Bearer ${daemon.token}` }, signal: aborter.signal });
    expect(fourth.status).toBe(200);
    await settle(3);
    aborter.abort();
    await Promise.all(streams.slice(1).map((s) => s.body!.cancel()));
    await settle(0);
  }, 60_000);

  test("DELETE ?deleteData=true removes the torrent and its files", async () => {
    const [torrent] = await daemon.json<TorrentSummary[]>("GET", "/api/v1/torrents", 200);
    expect(fs.existsSync(path.join(work, "got", NAME))).toBe(true);
    expect((await daemon.call("DELETE", `/api/v1/torrents/${torrent!.infoHash}?deleteData=true`)).status).toBe(204);
    expect(fs.existsSync(path.join(work, "got", NAME))).toBe(false);
    const samples = parseSamples(await metrics());
    expect([...samples.keys()].some((k) => k.includes(torrent!.infoHash))).toBe(false);
  });
});

describe("beyond loopback", () => {
  test("bound to 0.0.0.0 the API still demands the token, and takes any Host name", async () => {
    const wide = await startApiDaemon({ bind: "0.0.0.0" });
    try {
      expect((await fetch(`${wide.api}/api/v1/stats`)).status).toBe(401);
      expect((await fetch(`${wide.api}/api/v1/stats`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
      expect((await fetch(`${wide.api}/metrics`)).status).toBe(401);
      const ok = await wide.call("GET", "/api/v1/stats", { headers: { host: "btpeer.example:9080" } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { torrents: number }).torrents).toBe(0);
    } finally {
      await wide.stop();
    }
  }, 90_000);

  test("a token file others can read: the daemon refuses to start and says what to do", async () => {
    requireBinary();
    const stateDir = makeTempDir("btpeer-daemon-leaky-");
    try {
      fs.writeFileSync(path.join(stateDir, "api-token"), `${"A".repeat(43)}\n`, { mode: 0o644 });
      fs.chmodSync(path.join(stateDir, "api-token"), 0o644);
      const service = await spawnService({
        name: "daemon with a leaky token",
        cmd: [BINARY, "daemon", "--state-dir", stateDir, "--download-dir", stateDir, "--port", "0", "--api", `0.0.0.0:${freePort()}`],
      });
      const code = await service.exited;
      expect(code).not.toBe(0);
      expect(service.errLines.join("\n")).toContain("chmod 600");
    } finally {
      removeDir(stateDir);
    }
  }, 60_000);
});
