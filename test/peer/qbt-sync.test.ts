// sync/maindata keeps, per session, the last answer it sent, for the next incremental answer; each answer
// builds a fresh copy of every torrent's fields. Unchanged records must be shared between kept answers,
// and no answer older than a session's last is kept: 16 kept full lists of 10,000 torrents held 16
// dictionaries of them and, when their fields changed, 16 copies (bench:daemon's RSS after the lists).
// The rid semantics against a real daemon are in qbt-conformance.ts (sync/maindata cases).
import { describe, expect, test } from "bun:test";
import { type MainData, MainDataSync } from "../../peer/daemon/qbt/sync.ts";

function state(torrents: number, progressOf: (i: number) => number = () => 1): MainData {
  const out: MainData = { torrents: {}, categories: {}, tags: [], server_state: { dl_info_speed: 0 }, trackers: {} };
  for (let i = 0; i < torrents; i++) out.torrents[`h${i}`] = { name: `t${i}`, progress: progressOf(i), state: "uploading" };
  out.trackers["http://127.0.0.1:1/announce"] = Object.keys(out.torrents);
  return out;
}

describe("sync/maindata answers kept", () => {
  test("40 full lists of an unchanged state keep one copy of each torrent record", () => {
    const sync = new MainDataSync();
    for (let i = 0; i < 40; i++) expect(sync.answer("s", 0, state(100)).full_update).toBe(true);
    expect(sync.heldTorrentRecords()).toBe(100);
  });

  test("a session that polls a state changing every time holds one copy: its last answer's", () => {
    const sync = new MainDataSync();
    let rid = 0;
    for (let i = 0; i < 40; i++) {
      const answer = sync.answer(
        "s",
        rid,
        state(100, () => i / 40),
      );
      expect(answer.full_update).toBe(i === 0 ? true : undefined);
      rid = answer.rid as number;
    }
    expect(sync.heldTorrentRecords()).toBe(100);
  });

  test("only changed records are new copies; each session's diff is against its own last answer", () => {
    const sync = new MainDataSync();
    const first = sync.answer("a", 0, state(100)).rid as number;
    const other = sync.answer(
      "b",
      0,
      state(100, (i) => (i < 3 ? 0.5 : 1)),
    );
    expect(other.full_update).toBe(true);
    expect(sync.heldTorrentRecords()).toBe(103);
    // From a's rid: the three changed torrents, with only their changed field.
    const diff = sync.answer(
      "a",
      first,
      state(100, (i) => (i < 3 ? 0.5 : 1)),
    );
    expect(diff.full_update).toBeUndefined();
    expect(diff.torrents).toEqual({ h0: { progress: 0.5 }, h1: { progress: 0.5 }, h2: { progress: 0.5 } });
    expect(diff.trackers).toBeUndefined();
    // a's and b's last answers are the same state now: one copy.
    expect(sync.heldTorrentRecords()).toBe(100);
  });

  test("an older rid of the session, another session's rid, or an unknown one gets a full update", () => {
    const sync = new MainDataSync();
    const first = sync.answer("a", 0, state(10)).rid as number;
    const second = sync.answer("a", first, state(10)).rid as number;
    expect(sync.answer("a", first, state(10)).full_update).toBe(true);
    const b = sync.answer("b", 0, state(10)).rid as number;
    expect(sync.answer("a", b, state(10)).full_update).toBe(true);
    expect(sync.answer("a", second + 1000, state(10)).full_update).toBe(true);
  });

  test("a session's answer is dropped after 10 minutes without a request, or at its logout: its next request is a full update", () => {
    let now = 0;
    const sync = new MainDataSync(() => now);
    const rid = sync.answer("a", 0, state(10)).rid as number;
    now += 10 * 60 * 1000 + 1;
    sync.answer("b", 0, state(10));
    expect(sync.answer("a", rid, state(10)).full_update).toBe(true);
    const again = sync.answer("a", 0, state(10)).rid as number;
    sync.forget("a");
    expect(sync.answer("a", again, state(10)).full_update).toBe(true);
  });
});
