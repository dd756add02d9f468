// `btpeer daemon` as a command (dist/btpeer): the watch folder (a good torrent is added and renamed
// .added, a bad one renamed .invalid with the reason, a duplicate .added and said so, a file still being
// written left alone until it is whole), the API token printed on the first start only, XDG defaults,
// and a damaged state file refused with a message naming it and saying how to start fresh.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { encode } from "../../shared/bencode.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { DIST, startDaemon, torrentEvent } from "./daemon-harness.ts";

const PIECE = 32 * 1024;
let dir = "";
let torrent = "";
let hex = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-daemon-cli-");
  makeRandomFile(path.join(dir, "src", "movie.bin"), 1024 * 1024 + 77, 11);
  torrent = await makeTorrent(path.join(dir, "src", "movie.bin"), path.join(dir, "movie.torrent"), { pieceLength: PIECE });
  hex = Buffer.from(parseMetainfo(new Uint8Array(fs.readFileSync(torrent))).infoHash).toString("hex");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync([DIST, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("btpeer daemon: watch folder", () => {
  test("a good torrent is added and downloads, a bad one is .invalid with the reason, a duplicate is .added", async () => {
    const base = path.join(dir, "watch-case");
    const daemon = await startDaemon({ stateDir: path.join(base, "state"), downloadDir: path.join(base, "downloads"), watchDir: path.join(base, "watch") });
    // The first start prints the API token once.
    expect(daemon.events().filter((e) => e.event === "api-token")).toHaveLength(1);
    daemon.drop(torrent, "good.torrent");
    const added = await daemon.waitFor((e) => e.event === "watch" && e.file === "good.torrent");
    expect(added).toMatchObject({ result: "added", infoHash: hex });
    expect(fs.existsSync(path.join(base, "watch", "good.torrent.added"))).toBe(true);
    expect(await daemon.waitFor(torrentEvent("started", hex))).toMatchObject({ seeding: false, have: 0 });
    // It downloads: a seeder dials the daemon's port.
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src"), "--peer", `127.0.0.1:${daemon.port}`], { name: "seeder" });
    await daemon.waitFor(torrentEvent("completed", hex));
    expect(await sha256File(path.join(base, "downloads", "movie.bin"))).toBe(await sha256File(path.join(dir, "src", "movie.bin")));
    await seeder.stop();

    fs.writeFileSync(path.join(base, "watch", "bad.torrent"), "d8:announce3:xyz");
    const bad = await daemon.waitFor((e) => e.event === "watch" && e.file === "bad.torrent");
    expect(bad.result).toBe("invalid");
    expect(String(bad.reason)).toContain("not a valid torrent");
    expect(fs.existsSync(path.join(base, "watch", "bad.torrent.invalid"))).toBe(true);

    daemon.drop(torrent, "again.torrent");
    const duplicate = await daemon.waitFor((e) => e.event === "watch" && e.file === "again.torrent");
    expect(duplicate.result).toBe("duplicate");
    expect(String(duplicate.reason)).toContain("already added");
    expect(fs.existsSync(path.join(base, "watch", "again.torrent.added"))).toBe(true);
    expect(await daemon.stop()).toBe(0);

    // The next start resumes the torrent from the state dir, prints no token, and hashes nothing.
    const next = await startDaemon({ stateDir: path.join(base, "state"), downloadDir: path.join(base, "downloads"), watchDir: path.join(base, "watch") });
    expect(await next.waitFor(torrentEvent("started", hex))).toMatchObject({ checked: 0, seeding: true });
    expect(next.events().filter((e) => e.event === "api-token")).toHaveLength(0);
    expect(await next.stop()).toBe(0);
  }, 120_000);

  test("a torrent still being written is left alone until it is whole", async () => {
    const base = path.join(dir, "slow-case");
    const daemon = await startDaemon({ stateDir: path.join(base, "state"), downloadDir: path.join(base, "downloads"), watchDir: path.join(base, "watch") });
    const bytes = fs.readFileSync(torrent);
    const target = path.join(base, "watch", "slow.torrent");
    // Written a piece at a time over about 3 s, each part well within one poll of the last.
    const parts = 10;
    for (let k = 0; k < parts; k++) {
      fs.appendFileSync(target, bytes.subarray(Math.floor((k * bytes.length) / parts), Math.floor(((k + 1) * bytes.length) / parts)));
      await Bun.sleep(300);
    }
    const outcome = await daemon.waitFor((e) => e.event === "watch" && e.file === "slow.torrent");
    expect(outcome).toMatchObject({ result: "added", infoHash: hex });
    expect(daemon.events().filter((e) => e.event === "watch")).toHaveLength(1);
    expect(await daemon.stop()).toBe(0);
  }, 60_000);
});

describe("btpeer daemon: the command", () => {
  test("SIGTERM while a torrent is being checked ends the check and exits 0 at once", async () => {
    const base = path.join(dir, "checking-case");
    const downloads = path.join(base, "downloads");
    fs.mkdirSync(downloads, { recursive: true });
    // A 200 GiB sparse file (no disk used) and a torrent for it: hashing it all would take minutes.
    const length = 200 * 1024 ** 3;
    const pieceLength = 16 * 1024 * 1024;
    const fd = fs.openSync(path.join(downloads, "huge.bin"), "w");
    fs.ftruncateSync(fd, length);
    fs.closeSync(fd);
    const pieces = crypto.getRandomValues(new Uint8Array((length / pieceLength) * 20));
    const info = { length, name: new TextEncoder().encode("huge.bin"), "piece length": pieceLength, pieces };
    fs.writeFileSync(path.join(base, "huge.torrent"), encode({ info }));
    const daemon = await startDaemon({ stateDir: path.join(base, "state"), downloadDir: downloads, watchDir: path.join(base, "watch") });
    daemon.drop(path.join(base, "huge.torrent"));
    const checking = await daemon.waitFor((e) => e.event === "checking");
    expect(checking.pieces).toBe(length / pieceLength);
    // stop(): SIGTERM, then SIGKILL (exit 137) if it has not exited within its grace period.
    expect(await daemon.stop()).toBe(0);
    expect(daemon.events().some((e) => e.event === "checked")).toBe(false);
    expect(daemon.events().at(-1)?.event).toBe("daemon-stopped");
  }, 60_000);

  test("--help says how to start fresh; a stray argument is a usage error", () => {
    const help = run(["daemon", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--watch <dir>");
    expect(help.stdout).toContain("To start fresh");
    const stray = run(["daemon", "movie.torrent"]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('unexpected argument "movie.torrent"');
  }, 30_000); // safety bounds only: Bun's default is 5 s

  test("without --state-dir and --download-dir it follows XDG_STATE_HOME and XDG_DOWNLOAD_DIR", async () => {
    const xdg = path.join(dir, "xdg");
    const proc = Bun.spawn([DIST, "daemon", "--json", "--port", "0", "--bind", "127.0.0.1", "--api", "127.0.0.1:0"], {
      env: { ...process.env, XDG_STATE_HOME: path.join(xdg, "state"), XDG_DOWNLOAD_DIR: path.join(xdg, "dl") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = proc.stdout.getReader();
    let text = "";
    while (!text.includes('"daemon-started"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const started = JSON.parse(text.split("\n").find((l) => l.includes('"daemon-started"'))!);
    expect(started).toMatchObject({ stateDir: path.join(xdg, "state", "btpeer"), downloadDir: path.join(xdg, "dl") });
    expect(fs.existsSync(path.join(xdg, "state", "btpeer", "state.sqlite"))).toBe(true);
  }, 30_000);

  test("--upload-limit and --download-limit set the limits across all torrents; a rate that is not one is a usage error", async () => {
    const base = path.join(dir, "limits-case");
    const daemon = await startDaemon({
      stateDir: path.join(base, "state"),
      downloadDir: path.join(base, "downloads"),
      watchDir: path.join(base, "watch"),
      extra: ["--upload-limit", "512K", "--download-limit", "2M", "--max-peers", "30"],
    });
    const started = daemon.events().find((e) => e.event === "daemon-started")!;
    expect(started.limits).toEqual({ uploadLimit: 512 * 1024, downloadLimit: 2 * 1024 * 1024, maxPeers: 30 });
    expect(await daemon.stop()).toBe(0);
    const bad = run(["daemon", "--upload-limit", "fast", "--state-dir", path.join(base, "state")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--upload-limit wants bytes per second");
  }, 30_000);

  test("a damaged state file: one message naming it and how to start fresh, exit 1, nothing touched", () => {
    const stateDir = path.join(dir, "corrupt-state");
    fs.mkdirSync(stateDir, { recursive: true });
    const file = path.join(stateDir, "state.sqlite");
    fs.writeFileSync(file, "this is not a database, just text that happens to be here".repeat(100));
    const before = fs.readFileSync(file);
    const result = run([
      "daemon",
      "--port",
      "0",
      "--bind",
      "127.0.0.1",
      "--api",
      "127.0.0.1:0",
      "--state-dir",
      stateDir,
      "--download-dir",
      path.join(dir, "unused"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain("To start fresh");
    expect(fs.readFileSync(file)).toEqual(before);
  }, 30_000);
});
