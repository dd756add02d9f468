// A torrent of a Client paused while it checks its data: the check stops at once (pause() does not wait
// for it: no `checked`, the torrent is `paused` as soon as it is asked), and resume() checks those pieces
// again from the start, then works from what it found. The same for a re-check paused midway.
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { Client } from "../../peer/client/client.ts";
import { TorrentStorage } from "../../peer/storage/index.ts";
import type { TorrentEvent } from "../../peer/torrent/events.ts";
import type { Torrent } from "../../peer/torrent/torrent.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { until } from "../support/until.ts";
import { makeTorrent } from "./btpeer-harness.ts";

const dir = makeTempDir("btpeer-pause-check-");
afterAll(() => removeDir(dir));

// Large enough that a check takes far longer than a pause asked at its first event (hundreds of pieces).
const SIZE = 96 * 1024 * 1024;

async function bigTorrent(name: string): Promise<{ data: string; meta: Metainfo }> {
  const data = path.join(dir, name);
  fs.mkdirSync(data);
  makeRandomFile(path.join(data, "big.bin"), SIZE, 31);
  const file = await makeTorrent(path.join(data, "big.bin"), path.join(dir, `${name}.torrent`), { pieceLength: 256 * 1024 });
  return { data, meta: parseMetainfo(new Uint8Array(fs.readFileSync(file))) };
}

function addTo(client: Client, data: string, meta: Metainfo, have: Bitfield, events: TorrentEvent[], check?: (i: number) => boolean): Torrent {
  return client.addTorrent({
    meta,
    storage: TorrentStorage.open(meta, data),
    have,
    dir: data,
    poolBytes: 1 << 20,
    maxPeers: 10,
    peers: [],
    seed: true,
    waitForPeers: true,
    check,
    onEvent: (e) => events.push(e),
  });
}

const names = (events: TorrentEvent[]) => events.map((e) => e.event).filter((e) => e !== "progress");

describe("a torrent paused during its check", () => {
  test("the check at start stops at once; resume checks again and seeds", async () => {
    const { data, meta } = await bigTorrent("start");
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    try {
      const events: TorrentEvent[] = [];
      const torrent = addTo(client, data, meta, new Bitfield(meta.pieceCount), events, () => true);
      torrent.start();
      await until(() => names(events).includes("checking"), "the check to begin", { tries: 6000 });
      const paused = torrent.pause();
      expect(torrent.state).toBe("paused"); // at once, not once the check is over
      await paused;
      expect(names(events)).not.toContain("checked");
      expect(names(events)).toContain("paused");
      expect(torrent.state).toBe("paused");
      expect(torrent.have.count()).toBe(0); // nothing taken from a check cut short

      events.length = 0;
      await torrent.resume();
      await until(() => torrent.state === "seeding", "seeding after the check", { tries: 12000 });
      expect(names(events).slice(0, 3)).toEqual(["resumed", "checking", "checked"]);
      expect(torrent.have.count()).toBe(meta.pieceCount);
    } finally {
      await client.stop();
    }
  }, 240_000);

  test("a re-check paused midway stops at once; resume checks every piece and seeds again", async () => {
    const { data, meta } = await bigTorrent("recheck");
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    try {
      const events: TorrentEvent[] = [];
      const have = new Bitfield(meta.pieceCount);
      for (let i = 0; i < meta.pieceCount; i++) have.set(i);
      const torrent = addTo(client, data, meta, have, events);
      torrent.start();
      await until(() => torrent.state === "seeding", "seeding", { tries: 6000 });

      events.length = 0;
      const recheck = torrent.recheck();
      await until(() => names(events).includes("checking"), "the check to begin", { tries: 6000 });
      const paused = torrent.pause();
      expect(torrent.state).toBe("paused");
      await Promise.all([recheck, paused]);
      expect(names(events)).toContain("paused");
      expect(names(events)).not.toContain("checked");

      events.length = 0;
      await torrent.resume();
      expect(names(events).slice(0, 3)).toEqual(["resumed", "checking", "checked"]);
      expect(torrent.state).toBe("seeding");
      expect(torrent.have.count()).toBe(meta.pieceCount);
    } finally {
      await client.stop();
    }
  }, 240_000);
});
