// The Daemon (peer/daemon/service.ts) through DaemonControl, in this process with its real parts: a state
// dir on disk, a Client on a loopback port, a real btpeer seeder process. Adding (and what it refuses),
// views (list, get with files, peers, trackers and the piece map), events tagged with the info hash,
// pause and resume, and remove: with deleteData only the torrent's own files go, never through a symlink.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { InfoHash } from "../../shared/ids.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { DaemonError, type DaemonEvent } from "../../peer/daemon/control.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { makeRandomFile, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { startBtpeer } from "../peer/btpeer-harness.ts";
import { seedFixture } from "../support/seed-fixture.ts";

let dir = "";
let bytes: Uint8Array;
let hex = "";

beforeAll(async () => {
  const album = await seedFixture("btpeer-daemon-service-", "album", 32 * 1024, (folder) => {
    makeRandomFile(path.join(folder, "one.bin"), 300_000, 1);
    makeRandomFile(path.join(folder, "disc", "two.bin"), 200_000, 2);
  });
  dir = album.dir;
  bytes = new Uint8Array(fs.readFileSync(album.torrent));
  hex = Buffer.from(parseMetainfo(bytes).infoHash).toString("hex");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

async function errorOf(p: Promise<unknown>): Promise<DaemonError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof DaemonError) return error;
    throw error;
  }
  throw new Error("no DaemonError");
}

describe("Daemon", () => {
  test("adds, shows, pauses, resumes and removes a torrent; events carry its info hash", async () => {
    const downloads = path.join(dir, "downloads");
    const daemon = Daemon.open({ stateDir: path.join(dir, "state"), downloadDir: downloads, port: 0, bind: "127.0.0.1", log: () => {} });
    const events: DaemonEvent[] = [];
    daemon.subscribe((e) => events.push(e));
    try {
      expect((await errorOf(daemon.add({ source: { torrent: new TextEncoder().encode("nonsense") } }))).code).toBe("bad-torrent");
      // A magnet link is taken (test/peer/daemon-magnet.test.ts); one that is not a magnet link is not.
      expect((await errorOf(daemon.add({ source: { magnet: "magnet:?xt=urn:btih:123" } }))).code).toBe("bad-torrent");
      expect((await errorOf(daemon.add({ source: { torrent: bytes }, filePriorities: { 9: "skip" } }))).code).toBe("bad-request");
      expect(await daemon.add({ source: { torrent: bytes }, paused: true })).toBe(hex);
      expect((await errorOf(daemon.add({ source: { torrent: bytes } }))).code).toBe("duplicate");
      expect((await errorOf(Promise.resolve().then(() => daemon.get("00".repeat(20))))).code).toBe("not-found");

      while (!events.some((e) => e.event === "paused")) await Bun.sleep(20);
      expect(daemon.list()).toEqual([expect.objectContaining({ infoHash: hex, name: "album", state: "paused", progress: 0, size: 500_000 })]);
      expect(daemon.stats()).toMatchObject({ torrents: 1, byState: { paused: 1 }, port: daemon.port });

      // A paused torrent takes no peer; once resumed, the seeder's connection reaches it.
      await daemon.resume(hex);
      const transactionsBefore = daemon.store.transactions;
      expect(daemon.get(hex).state).toBe("downloading");
      const seeder = await startBtpeer(["seed", path.join(dir, "album.torrent"), "--dir", path.join(dir, "seed"), "--peer", `127.0.0.1:${daemon.port}`], {
        name: "seeder",
      });
      while (!events.some((e) => e.event === "completed" && e.infoHash === hex)) await Bun.sleep(50);
      // Resume data goes to the state file in batches: once all 16 pieces are saved, it took a commit or two.
      const infoHash = parseMetainfo(bytes).infoHash as InfoHash;
      while ((daemon.store.getResume(infoHash)?.bitfield.count() ?? 0) < 16) await Bun.sleep(50);
      const commits = daemon.store.transactions - transactionsBefore;
      expect(commits).toBeGreaterThanOrEqual(1);
      expect(commits).toBeLessThanOrEqual(3);
      const detail = daemon.get(hex);
      expect(detail).toMatchObject({ state: "seeding", progress: 1, pieceCount: 16, pieceLength: 32 * 1024 });
      expect(detail.files.map((f) => [f.path, f.length, f.progress])).toEqual([
        ["disc/two.bin", 200_000, 1],
        ["one.bin", 300_000, 1],
      ]);
      expect(Buffer.from(detail.pieces, "base64")).toEqual(Buffer.from([0xff, 0xff]));
      expect(events.every((e) => e.infoHash === hex)).toBe(true);
      for (const name of ["one.bin", "disc/two.bin"])
        expect(await sha256File(path.join(downloads, "album", name))).toBe(await sha256File(path.join(dir, "seed", "album", name)));

      await daemon.pause(hex);
      expect(daemon.get(hex)).toMatchObject({ state: "paused", peers: 0 });

      // Remove with its data: the torrent's files and its emptied folders go; what is not the torrent's stays.
      const outside = path.join(dir, "outside.bin");
      fs.writeFileSync(outside, "keep me");
      fs.rmSync(path.join(downloads, "album", "one.bin"));
      fs.symlinkSync(outside, path.join(downloads, "album", "one.bin"));
      fs.writeFileSync(path.join(downloads, "album", "notes.txt"), "mine");
      await daemon.remove(hex, true);
      expect(fs.existsSync(path.join(downloads, "album", "disc"))).toBe(false);
      expect(fs.lstatSync(path.join(downloads, "album", "one.bin")).isSymbolicLink()).toBe(true);
      expect(fs.readFileSync(outside, "utf8")).toBe("keep me");
      expect(fs.readFileSync(path.join(downloads, "album", "notes.txt"), "utf8")).toBe("mine");
      expect(daemon.list()).toEqual([]);
      expect(daemon.store.listTorrents()).toEqual([]);
      await seeder.stop();
    } finally {
      await daemon.close();
    }
  }, 120_000);

  test("a .torrent whose info hash is a magnet link still fetching its metadata is a duplicate, and the link takes its metadata", async () => {
    const downloads = path.join(dir, "downloads-dup");
    const daemon = Daemon.open({ stateDir: path.join(dir, "state-dup"), downloadDir: downloads, port: 0, bind: "127.0.0.1", log: () => {} });
    try {
      // Its one peer is a loopback port nobody listens on: the metadata never arrives from peers.
      const tracker = `http://127.0.0.1:${freePort()}/announce`;
      expect(await daemon.add({ source: { magnet: `magnet:?xt=urn:btih:${hex}&tr=${encodeURIComponent(tracker)}&x.pe=127.0.0.1:${freePort()}` } })).toBe(hex);
      // The add's own options are not applied (as qBittorrent's duplicate add): not paused.
      const handed = await errorOf(daemon.add({ source: { torrent: bytes }, paused: true }));
      expect([handed.code, handed.message]).toEqual(["duplicate", expect.stringContaining("it has it now")]);
      expect((await errorOf(daemon.add({ source: { magnet: `magnet:?xt=urn:btih:${hex.toUpperCase()}` } }))).code).toBe("duplicate");
      // Now the torrent, in the list and in the state: the .torrent made of the metadata and the link's tracker, the link gone.
      expect(daemon.list()).toEqual([expect.objectContaining({ infoHash: hex, name: "album", state: "downloading" })]);
      const [record] = daemon.store.listTorrents();
      expect(record?.state).toBe("downloading");
      const stored = parseMetainfo(daemon.store.getTorrent(record!.infoHash)!.metainfo);
      expect([Buffer.from(stored.infoHash).toString("hex"), stored.announceList]).toEqual([hex, [[tracker]]]);
      expect(daemon.store.getBlob(`magnet:${hex}`)).toBeNull();
      expect(fs.existsSync(path.join(downloads, "album", "one.bin"))).toBe(true);
    } finally {
      await daemon.close();
    }
  }, 60_000);
});
