// A torrent of a Client stopped while it checks its data on the client's hashing threads: the check ends
// (no `checked`, fewer pieces hashed than asked) and, once the ranges already on a thread have answered,
// the process holds no descriptor of the torrent's data (the threads are the process's, so /proc/self/fd).
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { Client } from "../../peer/client/client.ts";
import { TorrentStorage } from "../../peer/storage/index.ts";
import type { Torrent } from "../../peer/torrent/torrent.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { makeTorrent } from "./btpeer-harness.ts";

const dir = makeTempDir("btpeer-check-abort-");
afterAll(() => removeDir(dir));

function openBelow(folder: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(folder)) out.push(target);
    } catch {
      // closed while we read
    }
  }
  return out;
}

describe.skipIf(process.platform !== "linux")("a torrent stopped during its check", () => {
  test("the check on the client's threads ends, and no data file stays open", async () => {
    const data = path.join(dir, "data");
    fs.mkdirSync(data);
    makeRandomFile(path.join(data, "big.bin"), 96 * 1024 * 1024, 77);
    const meta = parseMetainfo(
      new Uint8Array(fs.readFileSync(await makeTorrent(path.join(data, "big.bin"), path.join(dir, "big.torrent"), { pieceLength: 256 * 1024 }))),
    );
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    const events: string[] = [];
    let torrent: Torrent | null = null;
    let stopped: Promise<void> | null = null;
    try {
      torrent = client.addTorrent({
        meta,
        storage: TorrentStorage.open(meta, data),
        have: new Bitfield(meta.pieceCount),
        dir: data,
        poolBytes: 1 << 20,
        maxPeers: 10,
        peers: [],
        seed: true,
        check: () => true,
        onEvent: (e) => {
          events.push(e.event);
          // Once the check has handed its first ranges to the threads.
          if (e.event === "checking") setTimeout(() => (stopped = torrent!.stop()), 0);
        },
      });
      torrent.start();
      const deadline = Date.now() + 60_000;
      while (!stopped && Date.now() < deadline) await Bun.sleep(5);
      await stopped;
      expect(events).toContain("checking");
      expect(events).not.toContain("checked");
      expect(events).not.toContain("started");
      // Ranges already on a thread finish (the bound is a safety one); each closed its files before answering.
      while (client.hashing.pending > 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(client.hashing.pending).toBe(0);
      expect(openBelow(data)).toEqual([]);
    } finally {
      await client.stop();
    }
  }, 120_000);
});
