// A torrent's settings through DaemonControl, with a real btpeer seeder: added with a file skipped (not
// created, the rest completes, complete again after a restart with no peer), un-skipped by patch (then
// completed too), limits and goals and sequential
// mode shown by get() and kept across a restart of the daemon; impossible values refused as bad-request;
// the global limits changed at run time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { DaemonError, type DaemonEvent } from "../../peer/daemon/control.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { makeRandomFile, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { startBtpeer } from "../peer/btpeer-harness.ts";
import { until as untilEvery } from "../support/until.ts";
import { seedFixture } from "../support/seed-fixture.ts";

const until = (what: () => boolean) => untilEvery(what, "the daemon", { tries: 1200, everyMs: 50 });

let dir = "";
let bytes: Uint8Array;
let hex = "";
const SIZES = { "a.bin": 300_000, "b.bin": 500_000, "c.bin": 200_000 };

beforeAll(async () => {
  const set = await seedFixture("btpeer-daemon-settings-", "set", 64 * 1024, (folder) => {
    let seed = 40;
    for (const [name, size] of Object.entries(SIZES)) makeRandomFile(path.join(folder, name), size, seed++);
  });
  dir = set.dir;
  bytes = new Uint8Array(fs.readFileSync(set.torrent));
  hex = Buffer.from(parseMetainfo(bytes).infoHash).toString("hex");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const meta = () => parseMetainfo(bytes);

function errorOf(run: () => unknown): Promise<DaemonError> {
  return Promise.resolve()
    .then(run)
    .then(
      () => {
        throw new Error("no DaemonError");
      },
      (error) => {
        if (error instanceof DaemonError) return error;
        throw error;
      },
    );
}

describe("Daemon: a torrent's settings", () => {
  test("skip a file at add, un-skip it by patch; settings shown, kept across a restart, and checked", async () => {
    const downloads = path.join(dir, "downloads");
    const stateDir = path.join(dir, "state");
    const open = () => Daemon.open({ stateDir, downloadDir: downloads, port: 0, bind: "127.0.0.1", log: () => {} });
    let daemon = open();
    const events: DaemonEvent[] = [];
    daemon.subscribe((e) => events.push(e));
    const completions = () => events.filter((e) => e.event === "completed").length;
    try {
      await daemon.add({
        source: { torrent: bytes },
        filePriorities: { 1: "skip" },
        sequential: true,
        limits: { downloadLimit: 8 * 1024 * 1024 },
        goals: { ratioLimit: 5 },
      });
      await startBtpeer(["seed", path.join(dir, "set.torrent"), "--dir", path.join(dir, "seed"), "--peer", `127.0.0.1:${daemon.port}`], { name: "seeder" });
      await until(() => completions() === 1);
      let detail = daemon.get(hex);
      expect(detail).toMatchObject({
        state: "seeding",
        progress: 1,
        wantedSize: 500_000,
        sequential: true,
        limits: { downloadLimit: 8 * 1024 * 1024, uploadLimit: null },
        goals: { ratioLimit: 5, seedTimeLimit: null },
      });
      expect(detail.files.map((f) => f.priority)).toEqual(["normal", "skip", "normal"]);
      expect(fs.existsSync(path.join(downloads, "set", "b.bin"))).toBe(false);

      // Restarted on another port, out of the seeder's reach: it is complete again from disk alone, the
      // pieces b.bin shares with a.bin and c.bin hashed from the parts file (resume data cannot vouch for them).
      await daemon.close();
      daemon = open();
      daemon.subscribe((e) => events.push(e));
      await daemon.loaded; // the stored torrents are read after open() returns
      await until(() => daemon.get(hex).state === "seeding");
      expect(events.filter((e) => e.event === "started").at(-1)).toMatchObject({ checked: 2, have: meta().pieceCount - 7 });
      await startBtpeer(["seed", path.join(dir, "set.torrent"), "--dir", path.join(dir, "seed"), "--peer", `127.0.0.1:${daemon.port}`], { name: "seeder 2" });

      // Impossible changes are refused by name, and change nothing.
      expect((await errorOf(() => daemon.patch(hex, { filePriorities: { 3: "skip" } }))).code).toBe("bad-request");
      expect((await errorOf(() => daemon.patch(hex, { limits: { downloadLimit: -5 } }))).code).toBe("bad-request");
      expect((await errorOf(() => daemon.patch(hex, { goals: { ratioLimit: Number.NaN } }))).code).toBe("bad-request");

      const before = completions();
      detail = await daemon.patch(hex, { filePriorities: { 1: "normal" }, limits: { maxPeers: 7 } });
      expect(detail.files.map((f) => f.priority)).toEqual(["normal", "normal", "normal"]);
      expect(detail.limits.maxPeers).toBe(7);
      await until(() => completions() === before + 1);
      expect(daemon.get(hex)).toMatchObject({ state: "seeding", progress: 1, wantedSize: 1_000_000 });
      for (const name of Object.keys(SIZES))
        expect(await sha256File(path.join(downloads, "set", name))).toBe(await sha256File(path.join(dir, "seed", "set", name)));

      // The global limits, at run time.
      expect(daemon.setLimits({ downloadLimit: 1024 * 1024, maxPeers: 150 })).toEqual({ uploadLimit: null, downloadLimit: 1024 * 1024, maxPeers: 150 });
      expect(daemon.stats().limits).toEqual({ uploadLimit: null, downloadLimit: 1024 * 1024, maxPeers: 150 });
      expect((await errorOf(() => daemon.setLimits({ maxPeers: 0 }))).code).toBe("bad-request");
      expect(daemon.setLimits({ downloadLimit: 0 }).downloadLimit).toBeNull();

      await daemon.close();
      daemon = open();
      await daemon.loaded;
      detail = daemon.get(hex);
      expect(detail).toMatchObject({ sequential: true, limits: { downloadLimit: 8 * 1024 * 1024, maxPeers: 7 }, goals: { ratioLimit: 5 } });
      expect(detail.files.map((f) => f.priority)).toEqual(["normal", "normal", "normal"]);
      await until(() => daemon.get(hex).state === "seeding");
    } finally {
      await daemon.close();
    }
  }, 120_000);
});
