// Changing a torrent's settings and the daemon's limits through the API and `btpeer remote`, against
// the real daemon: what the service applies is what GET shows afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import type { DaemonStats, GlobalLimits, TorrentDetail } from "../../peer/daemon/control.ts";
import { removeDir } from "../support/processes.ts";
import { BINARY, type ApiDaemon, startApiDaemon } from "./daemon-api-harness.ts";
import { makePair, seedFixture } from "../support/seed-fixture.ts";

let daemon: ApiDaemon;
let work: string;
let torrentBytes: Uint8Array<ArrayBuffer>;

beforeAll(async () => {
  const pair = await seedFixture("btpeer-api-settings-", "pair", 16384, makePair);
  work = pair.dir;
  torrentBytes = new Uint8Array(fs.readFileSync(pair.torrent));
  daemon = await startApiDaemon();
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(work);
});

describe("settings through the API", () => {
  let infoHash: string;

  test("add with skip, limits and goals from the query: the detail shows them", async () => {
    ({ infoHash } = await daemon.json<{ infoHash: string }>(
      "POST",
      "/api/v1/torrents?paused=true&skip=1&downloadLimit=65536&ratioLimit=2.5&seedTimeLimit=600",
      201,
      {
        body: torrentBytes,
        headers: { "content-type": "application/x-bittorrent" },
      },
    ));
    const detail = await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash}`, 200);
    expect(detail.files.map((f) => f.priority)).toEqual(["normal", "skip"]);
    expect(detail).toMatchObject({ wantedSize: 300_000, limits: { downloadLimit: 65536 }, goals: { ratioLimit: 2.5, seedTimeLimit: 600 } });
  });

  test("PATCH changes limits, priorities, sequential and goals; GET shows them after", async () => {
    const patch = {
      limits: { uploadLimit: 131072, downloadLimit: null, maxPeers: 20 },
      filePriorities: { 1: "high" },
      sequential: true,
      goals: { seedTimeLimit: null },
    };
    const after = await daemon.json<TorrentDetail>("PATCH", `/api/v1/torrents/${infoHash}`, 200, { body: JSON.stringify(patch) });
    expect(after).toMatchObject({
      limits: { uploadLimit: 131072, downloadLimit: null, maxPeers: 20 },
      sequential: true,
      goals: { ratioLimit: 2.5, seedTimeLimit: null },
    });
    expect(after.files.map((f) => f.priority)).toEqual(["normal", "high"]);
    expect(await daemon.json<TorrentDetail>("GET", `/api/v1/torrents/${infoHash}`, 200)).toMatchObject({ sequential: true, wantedSize: 500_000 });
  });

  test("global limits change while running; stats and /metrics show them", async () => {
    const before = await daemon.json<GlobalLimits>("GET", "/api/v1/limits", 200);
    const after = await daemon.json<GlobalLimits>("PATCH", "/api/v1/limits", 200, { body: JSON.stringify({ downloadLimit: 1048576, maxPeers: 150 }) });
    expect(after).toEqual({ uploadLimit: before.uploadLimit, downloadLimit: 1048576, maxPeers: 150 });
    expect(await daemon.json("GET", "/api/v1/limits", 200)).toEqual(after);
    expect((await daemon.json<DaemonStats>("GET", "/api/v1/stats", 200)).limits).toEqual(after);
    expect(await (await daemon.call("GET", "/metrics")).text()).toContain("\nbtpeer_download_limit_bytes 1048576\n");
    expect((await daemon.json<GlobalLimits>("PATCH", "/api/v1/limits", 200, { body: JSON.stringify({ downloadLimit: null }) })).downloadLimit).toBeNull();
  });

  test("btpeer remote limits sets them (0: none)", async () => {
    const remote = (args: string[]) =>
      Bun.spawnSync([BINARY, "remote", "--api", daemon.api, "--state-dir", daemon.stateDir, ...args], { stdout: "pipe", stderr: "pipe" });
    const set = remote(["limits", "--upload-limit", "1M", "--max-peers", "80"]);
    expect(set.stdout.toString()).toContain("↑ 1.0 MiB/s  peers 80");
    expect(JSON.parse(remote(["limits", "--upload-limit", "0", "--json"]).stdout.toString()).uploadLimit).toBeNull();
  });
});
