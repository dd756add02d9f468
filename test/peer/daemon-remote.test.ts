// `btpeer remote` (the compiled binary) against the real daemon: the token read from the daemon's state
// dir, each command as a table or text and as --json, and errors that say what to do next.
import type { DaemonStats, GlobalLimits, TorrentDetail, TorrentSummary } from "../../peer/daemon/control.ts";
import type { DaemonSettings } from "../../peer/daemon/daemon-settings.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import path from "node:path";
import { freePort } from "../support/ports.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/processes.ts";
import { makeTorrent } from "./btpeer-harness.ts";
import { BINARY, type ApiDaemon, startApiDaemon } from "./daemon-api-harness.ts";

let daemon: ApiDaemon;
let work: string;
let torrentFile: string;
let infoHash: string;

beforeAll(async () => {
  work = makeTempDir("btpeer-remote-");
  fs.mkdirSync(path.join(work, "album"));
  makeRandomFile(path.join(work, "album", "one.bin"), 100_000, 1);
  makeRandomFile(path.join(work, "album", "two.bin"), 50_000, 2);
  torrentFile = await makeTorrent(path.join(work, "album"), path.join(work, "album.torrent"), { pieceLength: 16384 });
  daemon = await startApiDaemon();
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(work);
});

/** `btpeer remote <args>` with the daemon's API and state dir, BTPEER_TOKEN unset. */
async function remote(args: string[], extra: { api?: string; env?: Record<string, string> } = {}) {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...extra.env };
  if (!extra.env?.BTPEER_TOKEN) delete env.BTPEER_TOKEN;
  const proc = Bun.spawn([BINARY, "remote", "--api", extra.api ?? daemon.api, "--state-dir", daemon.stateDir, ...args], {
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

async function remoteJson<T = TorrentDetail>(args: string[]): Promise<T> {
  const r = await remote([...args, "--json"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout) as T;
}

describe("btpeer remote against the daemon", () => {
  test("add a .torrent paused with a file skipped; list shows it as a table and as JSON", async () => {
    const added = await remote(["add", torrentFile, "--paused", "--skip", "1", "--save-path", path.join(work, "dl")]);
    expect(added.code).toBe(0);
    infoHash = /added ([0-9a-f]{40})/.exec(added.stdout)![1]!;

    const table = await remote(["list"]);
    expect(table.code).toBe(0);
    const [head, row, ...rest] = table.stdout.trimEnd().split("\n");
    expect(head!.split(/\s+/)).toEqual(["HASH", "NAME", "STATE", "PROGRESS", "SIZE", "DOWN", "UP", "PEERS", "RATIO", "ETA"]);
    expect(rest).toEqual([]);
    expect(row!.split(/\s{2,}/).slice(0, 5)).toEqual([infoHash.slice(0, 8), "album", "paused", "0.0%", "97.7 KiB"]);

    const list = await remoteJson<TorrentSummary[]>(["list"]);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ infoHash, name: "album", state: "paused", size: 150_000, wantedSize: 100_000 });
  });

  test("--help lists the commands; `btpeer --help` lists remote", async () => {
    const help = await remote(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "list",
      "add",
      "info",
      "pause",
      "resume",
      "recheck",
      "reannounce",
      "remove",
      "stats",
      "limits",
      "settings",
      "--announce-to-all-tiers",
      "--delete-data",
      "--json",
    ]) {
      expect(help.stdout).toContain(command);
    }
    const top = Bun.spawnSync([BINARY, "--help"], { stdout: "pipe" });
    expect(top.stdout.toString()).toMatch(/^ {2}remote +drive a running daemon/m);
  });

  test("the same .torrent again, also by URL: exit 1 saying it is there already", async () => {
    const files = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(fs.readFileSync(torrentFile)) });
    try {
      const byUrl = await remote(["add", `http://127.0.0.1:${files.port}/album.torrent`]);
      expect(byUrl.code).toBe(1);
      expect(byUrl.stderr).toContain("(duplicate)");
    } finally {
      await files.stop(true);
    }
    const again = await remote(["add", torrentFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("(duplicate)");
  });

  test("info by a hash prefix: files with their priorities, in text and JSON", async () => {
    const info = await remote(["info", infoHash.slice(0, 6)]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(`info hash   ${infoHash}`);
    expect(info.stdout).toMatch(/0 +0\.0% +normal .* one\.bin/);
    expect(info.stdout).toMatch(/1 +0\.0% +skip .* two\.bin/);
    const detail = await remoteJson(["info", infoHash]);
    expect(detail.savePath).toBe(path.join(work, "dl"));
  });

  test("resume, pause: the new state; stats; the limits", async () => {
    expect((await remoteJson(["resume", infoHash])).state).not.toBe("paused");
    const paused = await remote(["pause", infoHash]);
    expect(paused).toMatchObject({ code: 0, stdout: "album: paused\n" });
    expect(await remoteJson<DaemonStats>(["stats"])).toMatchObject({ torrents: 1, byState: { paused: 1 }, port: daemon.peerPort });
    expect((await remote(["stats"])).stdout).toContain("torrents    1 (1 paused)");
    const limits = await remoteJson<GlobalLimits>(["limits"]);
    expect(Object.keys(limits).sort()).toEqual(["downloadLimit", "maxPeers", "uploadLimit"]);
    expect((await remote(["limits"])).stdout).toStartWith("limits      ↓ ");
  });

  test("settings: shown, changed one at a time, refused by name when not on|off; the daemon keeps them across a restart", async () => {
    expect(await remote(["settings"])).toMatchObject({
      code: 0,
      stdout: "announce to all tiers               on\nannounce to all trackers in a tier  off\n",
    });
    expect(await remoteJson<DaemonSettings>(["settings", "--announce-to-all-tiers", "off"])).toEqual({
      announceToAllTiers: false,
      announceToAllTrackers: false,
    });
    const both = await remote(["settings", "--announce-to-all-trackers", "on"]);
    expect(both).toMatchObject({ code: 0, stdout: "announce to all tiers               off\nannounce to all trackers in a tier  on\n" });
    expect(await daemon.json("GET", "/api/v1/settings", 200)).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });

    const bad = await remote(["settings", "--announce-to-all-tiers", "yes"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--announce-to-all-tiers wants on or off, got "yes"');
    expect(await daemon.json("GET", "/api/v1/settings", 200)).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });

    daemon = await daemon.restart();
    expect(await remoteJson<DaemonSettings>(["settings"])).toEqual({ announceToAllTiers: false, announceToAllTrackers: true });
    expect(await remoteJson<DaemonSettings>(["settings", "--announce-to-all-tiers", "on", "--announce-to-all-trackers", "off"])).toEqual({
      announceToAllTiers: true,
      announceToAllTrackers: false,
    });
  }, 90_000);

  test("remove --delete-data: gone from the list", async () => {
    const removed = await remote(["remove", infoHash, "--delete-data"]);
    expect(removed).toMatchObject({ code: 0, stdout: `removed ${infoHash} and its files\n` });
    expect(await remoteJson<TorrentSummary[]>(["list"])).toEqual([]);
    expect((await remote(["list"])).stdout).toContain("no torrents");
  });

  test("errors say what to do: no daemon, a wrong token, no token, an unknown hash, a usage mistake", async () => {
    const down = await remote(["list"], { api: `http://127.0.0.1:${freePort()}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("start it with `btpeer daemon`".replace("start", "Start"));
    const wrong = await remote(["list"], { env: { BTPEER_TOKEN: "not-the-token" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the token from BTPEER_TOKEN");
    expect(wrong.stderr).toContain(path.join(daemon.stateDir, "api-token"));
    const none = await remote(["list", "--state-dir", path.join(work, "nowhere")]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("--token");
    const unknown = await remote(["info", "0".repeat(40)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("not-found");
    const usage = await remote(["frobnicate"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: btpeer remote");
  });
});
