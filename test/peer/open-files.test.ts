// Thousands of torrents that each read a file once must not each keep that file and their folder open:
// a real `dist/btpeer daemon` given many torrents through its API, its descriptors counted in /proc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { startDaemon } from "./daemon-harness.ts";

let dir = "";

beforeAll(() => {
  dir = makeTempDir("btpeer-open-files-");
});

afterAll(async () => {
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
