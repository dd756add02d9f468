// Peer limits changed while a torrent runs: an in-process seeding torrent with three real btpeer leechers
// connected drops to one peer when its --max-peers is lowered to 1; the client's connection cap changes
// the room it leaves for dials at once, and impossible values are refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { Client } from "../../peer/client/client.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { until as untilEvery } from "../support/until.ts";

const until = (what: () => boolean, label: string) => untilEvery(what, label, { tries: 1200, everyMs: 50 });

let dir = "";

beforeAll(() => {
  dir = makeTempDir("btpeer-max-peers-");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

describe("peer limits at run time", () => {
  test("setMaxPeers(1) closes all peers but one; the global cap changes at run time", async () => {
    const source = path.join(dir, "src", "big.bin");
    makeRandomFile(source, 4 * 1024 * 1024, 9);
    const file = await makeTorrent(source, path.join(dir, "big.torrent"), { pieceLength: 64 * 1024 });
    const meta = parseMetainfo(new Uint8Array(fs.readFileSync(file)));
    const storage = TorrentStorage.open(meta, path.dirname(source));
    const have = await verifyExisting(meta, path.dirname(source));
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    // Held to 64 KiB/s, the leechers stay connected (and interested) for the whole test.
    const torrent = client.addTorrent({
      meta,
      storage,
      have,
      dir: path.dirname(source),
      poolBytes: 1 << 20,
      maxPeers: 10,
      peers: [],
      seed: true,
      uploadLimit: 64 * 1024,
      onEvent: () => {},
    });
    try {
      torrent.start();
      for (const n of [1, 2, 3]) {
        await startBtpeer(["download", file, "--out", path.join(dir, `l${n}`), "--no-dht", "--peer", `127.0.0.1:${client.port}`], { name: `leecher ${n}` });
      }
      await until(() => torrent.peers.size === 3, "three peers");
      torrent.setMaxPeers(1);
      expect(torrent.tuned.maxPeers).toBe(1);
      await until(() => torrent.peers.size <= 1, "the peers above the new cap to go");
      expect(torrent.peers.size).toBe(1);

      // The client's cap across torrents: the room it leaves for dials follows it at once.
      expect(client.room()).toBe(200 - 1);
      expect(client.setGlobalLimits({ maxPeers: 1 }).maxPeers).toBe(1);
      expect(client.room()).toBe(0);
      expect(() => client.setGlobalLimits({ maxPeers: 0 })).toThrow(RangeError);
      expect(() => client.setGlobalLimits({ uploadLimit: -1 })).toThrow(RangeError);
      expect(client.globalLimits).toEqual({ uploadLimit: null, downloadLimit: null, maxPeers: 1 });
    } finally {
      await client.stop();
    }
  }, 90_000);
});
