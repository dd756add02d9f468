// The process's budget of open data files (peer/storage/open-files.ts): thousands of torrents that each
// read a file once must not each keep that file and their folder open. Real files and real descriptors,
// counted in /proc/self/fd; then a real `btpeer daemon` given many torrents through its API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import { DEFAULT_MAX_OPEN_FILES, openFiles } from "../../peer/storage/open-files.ts";
import { TorrentStorage } from "../../peer/storage/torrent-storage.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { startDaemon } from "./daemon-harness.ts";

let dir = "";

beforeAll(() => {
  dir = makeTempDir("btpeer-open-files-");
});

afterAll(async () => {
  openFiles.limit = DEFAULT_MAX_OPEN_FILES;
  await stopAllServices();
  removeDir(dir);
}, 60_000);

/** Descriptors of `pid` that point below `under`. */
function descriptorsBelow(pid: number | "self", under: string): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(under)) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** `count` one-file torrents of 16 KiB, each in its own folder (as torrents of a daemon are). */
async function smallTorrents(count: number, root: string): Promise<{ meta: Metainfo; folder: string; bytes: Uint8Array; torrent: Uint8Array }[]> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const folder = path.join(root, `d${i}`);
    const file = path.join(folder, `f${i}.bin`);
    makeRandomFile(file, 16 * 1024, 500 + i);
    const { torrent } = await createTorrentFromDisk(file, { trackers: [], pieceLength: 16 * 1024, creationDate: null });
    out.push({ meta: parseMetainfo(torrent), folder, bytes: new Uint8Array(fs.readFileSync(file)), torrent });
  }
  return out;
}

describe("open data files across torrents", () => {
  test("reading once from each of 40 torrents keeps at most the budget open (files and folders), and an evicted file reads again", async () => {
    const root = path.join(dir, "storages");
    const torrents = await smallTorrents(40, root);
    openFiles.limit = 8;
    const storages = torrents.map((t) => TorrentStorage.open(t.meta, t.folder));
    try {
      const block = new Uint8Array(16 * 1024);
      for (const [i, s] of storages.entries()) {
        s.readBlock(0, 0, block.length, block, 0);
        expect(Buffer.from(block).equals(Buffer.from(torrents[i]!.bytes))).toBe(true);
      }
      // 8 files and the 8 folders they were opened from (40 + 40 without the budget).
      expect(descriptorsBelow("self", fs.realpathSync(root))).toBeLessThanOrEqual(16);
      storages[0]!.readBlock(0, 0, block.length, block, 0); // closed long ago: opened again through its folder
      expect(Buffer.from(block).equals(Buffer.from(torrents[0]!.bytes))).toBe(true);
    } finally {
      for (const s of storages) s.close();
      openFiles.limit = DEFAULT_MAX_OPEN_FILES;
    }
    expect(openFiles.size).toBe(0);
  });

  test("a file pinned for an upload is never closed to make room; it is once unpinned", async () => {
    const root = path.join(dir, "pinned");
    const torrents = await smallTorrents(6, root);
    openFiles.limit = 2;
    const storages = torrents.map((t) => TorrentStorage.open(t.meta, t.folder));
    try {
      let pinned = -1;
      storages[0]!.blockRegions(0, 0, 16 * 1024, (_file, fd) => {
        pinned = fd;
      });
      const block = new Uint8Array(16 * 1024);
      for (const s of storages.slice(1)) s.readBlock(0, 0, block.length, block, 0);
      // Still the same open file: read through the pinned descriptor itself.
      expect(fs.readSync(pinned, block, 0, block.length, 0)).toBe(block.length);
      expect(Buffer.from(block).equals(Buffer.from(torrents[0]!.bytes))).toBe(true);
      storages[0]!.releaseFile(0);
      for (const s of storages.slice(1)) s.readBlock(0, 0, block.length, block, 0);
      expect(descriptorsBelow("self", fs.realpathSync(root))).toBeLessThanOrEqual(4);
    } finally {
      for (const s of storages) s.close();
      openFiles.limit = DEFAULT_MAX_OPEN_FILES;
    }
  });

  test("btpeer daemon: torrents added through the API and checked keep none of their files open once seeding, not a file and a folder each", async () => {
    const count = 150;
    const data = path.join(dir, "daemon-data");
    const torrents = await smallTorrents(count, data);
    const daemon = await startDaemon({ stateDir: path.join(dir, "daemon-state"), downloadDir: data, watchDir: path.join(dir, "daemon-watch") });
    const token = fs.readFileSync(path.join(daemon.stateDir, "api-token"), "utf8").trim();
    const base = `http://127.0.0.1:${new URL(daemon.api).port}`;
    const api = (p: string, init: RequestInit = {}) =>
      fetch(`${base}${p}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
    for (const t of torrents) {
      const res = await api(`/api/v1/torrents?savePath=${encodeURIComponent(t.folder)}`, {
        method: "POST",
        body: t.torrent as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "application/x-bittorrent" },
      });
      expect(res.status, await res.text()).toBeLessThan(300);
    }
    const deadline = Date.now() + 240_000; // a safety bound
    let seeding = 0;
    while (seeding < count && Date.now() < deadline) {
      await Bun.sleep(500);
      seeding = ((await (await api("/api/v1/stats")).json()) as { byState: Record<string, number> }).byState.seeding ?? 0;
    }
    expect(seeding).toBe(count);
    // Every torrent's data was read by its check, in a hashing worker that was then terminated: the
    // descriptors it still held stayed in the process (300 here), until 10,000 torrents ran out of them.
    expect(descriptorsBelow(daemon.service.pid, fs.realpathSync(data))).toBeLessThan(count);
    expect(await daemon.stop()).toBe(0);
  }, 300_000);
});
