// sync/maindata keeps recent snapshots for incremental answers; each answer builds a fresh copy of every
// torrent's fields. Unchanged records must be shared between kept snapshots, or 16 kept full lists of
// 10,000 torrents hold 16 copies (hundreds of MiB after a few lists in the daemon bench).
import { describe, expect, test } from "bun:test";
import { type MainData, MainDataSync } from "../../peer/daemon/qbt/sync.ts";

function state(torrents: number, progressOf: (i: number) => number = () => 1): MainData {
  const out: MainData = { torrents: {}, categories: {}, tags: [], server_state: { dl_info_speed: 0 }, trackers: {} };
  for (let i = 0; i < torrents; i++) out.torrents[`h${i}`] = { name: `t${i}`, progress: progressOf(i), state: "uploading" };
  out.trackers["http://127.0.0.1:1/announce"] = Object.keys(out.torrents);
  return out;
}

describe("sync/maindata snapshots", () => {
  test("40 full lists of an unchanged state keep one copy of each torrent record", () => {
    const sync = new MainDataSync();
    for (let i = 0; i < 40; i++) expect(sync.answer(0, state(100)).full_update).toBe(true);
    expect(sync.heldTorrentRecords()).toBe(100);
  });

  test("only changed records are new copies, and diffs against older rids stay exact", () => {
    const sync = new MainDataSync();
    const first = sync.answer(0, state(100)).rid as number;
    sync.answer(first, state(100));
    const third = sync.answer(
      0,
      state(100, (i) => (i < 3 ? 0.5 : 1)),
    );
    expect(third.full_update).toBe(true);
    expect(sync.heldTorrentRecords()).toBe(103);
    // From the first rid: the three changed torrents, with only their changed field.
    const diff = sync.answer(
      first,
      state(100, (i) => (i < 3 ? 0.5 : 1)),
    );
    expect(diff.full_update).toBeUndefined();
    expect(diff.torrents).toEqual({ h0: { progress: 0.5 }, h1: { progress: 0.5 }, h2: { progress: 0.5 } });
    expect(diff.trackers).toBeUndefined();
  });
});
