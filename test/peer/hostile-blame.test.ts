// Hostile peers next to an honest btpeer seeder: a real `btpeer download` must finish with the right bytes,
// never ban the honest seeder for another peer's data, and drop or ban only the hostile peer. The hostile
// peers listen on 127.0.0.2 (loopback on Linux) so that a ban of their IP cannot catch the seeder on 127.0.0.1.
// Where the hostile peer is to be closed for what it did, it is the leecher's only peer until then, and an
// honest seeder dials in afterwards: with the seeder there from the start, everything could come before the
// hostile peer had done anything. Where its blocks must share pieces with the seeder's, both are there from
// the start and the seeder runs with an upload limit, so the download lasts a few seconds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeMessage } from "../../shared/wire/codec.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer, type Btpeer, type BtpeerEvent } from "./btpeer-harness.ts";
import { listenScripted, type ListeningPeer } from "./hostile-peers.ts";

const HOSTILE_HOST = "127.0.0.2";
const PIECE = 64 * 1024;

let dir = "";
let torrent = "";
let meta: Metainfo;
let source: Uint8Array;
let seeder: Btpeer;
const hostiles: ListeningPeer[] = [];

beforeAll(async () => {
  dir = makeTempDir("btpeer-blame-");
  makeRandomFile(path.join(dir, "src", "data.bin"), 4 * 1024 * 1024 + 999, 21);
  source = new Uint8Array(fs.readFileSync(path.join(dir, "src", "data.bin")));
  torrent = await makeTorrent(path.join(dir, "src", "data.bin"), path.join(dir, "data.torrent"), { pieceLength: PIECE });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src"), "--upload-limit", "1M"], { name: "honest seeder" });
});

afterAll(async () => {
  for (const h of hostiles) h.stop();
  await stopAllServices();
  removeDir(dir);
}, 30_000);

function startLeecher(peers: string[], name: string, extra: string[]): Promise<Btpeer> {
  return startBtpeer(["download", torrent, "--out", path.join(dir, name), "--no-seed", ...peers.flatMap((p) => ["--peer", p]), ...extra], {
    name: `leecher (${name})`,
    env: { BTPEER_DEBUG: "1" },
  });
}

/** Waits until the leecher completes or bans the honest seeder (any peer on 127.0.0.1); checks it completed. */
async function completes(leecher: Btpeer, name: string) {
  const seederBanned = (e: BtpeerEvent) => e.event === "peer-banned" && String(e.peer).startsWith("127.0.0.1:");
  const outcome = await leecher.waitFor((e) => e.event === "completed" || seederBanned(e), 120_000);
  const bans = leecher.events().filter(isEvent("peer-banned"));
  expect(bans.filter(seederBanned)).toEqual([]); // the honest seeder is never banned
  expect(outcome.event).toBe("completed");
  expect(outcome.have).toBe(meta.pieceCount);
  expect(await leecher.service.exited).toBe(0);
  expect(await sha256File(path.join(dir, name, "data.bin"))).toBe(await sha256File(path.join(dir, "src", "data.bin")));
  return bans;
}

/** Runs a leecher against the hostile peer and the (paced) honest seeder at once, until it completes. */
async function leech(hostile: ListeningPeer, name: string, extra: string[] = []) {
  hostiles.push(hostile);
  const leecher = await startLeecher([hostile.address, seeder.address], name, extra);
  return { leecher, bans: await completes(leecher, name) };
}

/**
 * Runs a leecher whose only peer is the hostile one until it has closed that peer's connection; then an
 * honest seeder dials in, and the download must complete from it.
 */
async function leechAfterClose(hostile: ListeningPeer, name: string, extra: string[] = []) {
  hostiles.push(hostile);
  const leecher = await startLeecher([hostile.address], name, extra);
  await Promise.race([hostile.firstClose, Bun.sleep(60_000)]); // a safety bound: the checks below say what is missing
  expect(hostile.stats.closed).toBeGreaterThan(0);
  await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src"), "--peer", leecher.address], { name: `seeder dialling the leecher (${name})` });
  return { leecher, bans: await completes(leecher, name) };
}

/** Waits (up to a generous 30 s, for stderr to be read to its end) until the leecher's stderr says `pattern`. */
async function stderrSays(leecher: Btpeer, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 300 && !pattern.test(leecher.service.output()); i++) await Bun.sleep(100);
  return leecher.service.output();
}

const garbage = (length: number) => new Uint8Array(length).fill(0xab);

describe("a btpeer leecher with an honest seeder and one hostile peer", () => {
  test("blocks nobody asked for, or labelled with another piece, are dropped (the sender is disconnected) and never cost the seeder", async () => {
    // It says it has the even pieces only, so it is never asked for an odd one: those are what it sends.
    const even = new Uint8Array(Math.ceil(meta.pieceCount / 8)).fill(0xaa);
    even[even.length - 1]! &= 0xff << (even.length * 8 - meta.pieceCount); // spare bits clear
    const had = new Set<number>();
    const oddLacking = () => [...Array(meta.pieceCount - 1).keys()].filter((i) => i % 2 === 1 && !had.has(i));
    let timer: ReturnType<typeof setInterval> | undefined;
    const hostile = listenScripted(
      meta,
      HOSTILE_HOST,
      "unasked",
      {
        start(wire) {
          wire.send({ type: "unchoke" });
          // Every quarter second, a wrong last block for each odd piece the leecher lacks: in the old code
          // these landed in pieces the seeder was filling, which then failed and struck the seeder too.
          timer ??= setInterval(() => {
            for (const i of oddLacking()) wire.send({ type: "piece", index: i, begin: PIECE - BLOCK_SIZE, block: garbage(BLOCK_SIZE) });
          }, 250);
        },
        message(m, wire) {
          if (m.type === "have") had.add(m.index);
          // A request (for an even piece) is answered with a block labelled with an odd one.
          const odd = oddLacking()[0];
          if (m.type === "request" && odd !== undefined) wire.send({ type: "piece", index: odd, begin: m.begin, block: garbage(m.length) });
        },
      },
      { bitfield: even },
    );
    try {
      const { leecher } = await leechAfterClose(hostile, "unasked");
      expect(leecher.events().filter(isEvent("piece-failed"))).toEqual([]); // none of its bytes were taken
      const said = new RegExp(`peer ${hostile.address} closed: protocol error: sent \\d+ blocks or rejects nobody asked for`);
      expect(await stderrSays(leecher, said)).toMatch(said);
    } finally {
      clearInterval(timer);
    }
  }, 150_000);

  test("wrong blocks mixed into pieces the seeder also sends: pieces are fetched again from one peer (parole), and only the hostile peer is banned", async () => {
    // reqq 1 and a slow answer: one block at a time while the seeder sends several, so the pieces it has a
    // block in are finished by the seeder, rather than by itself alone.
    const hostile = listenScripted(
      meta,
      HOSTILE_HOST,
      "mixer",
      {
        start: (wire) => wire.send({ type: "unchoke" }),
        message(m, wire) {
          if (m.type !== "request") return;
          setTimeout(() => wire.send({ type: "piece", index: m.index, begin: m.begin, block: garbage(m.length) }), 50);
        },
      },
      { reqq: 1 },
    );
    const { leecher, bans } = await leech(hostile, "mixer");
    expect(bans.map((e) => e.peer)).toEqual([hostile.address]);
    const failed = leecher.events().filter(isEvent("piece-failed"));
    expect(failed.some((e) => e.parole === true)).toBe(true); // it did share pieces with the seeder
  }, 150_000);

  test("a block of the wrong length is a protocol error: the peer is closed, the block asked of another, and the download completes", async () => {
    // A small pool: in the old code every such block stayed marked as requested, so its piece held a slot
    // forever; once they held all of them the download stopped for good.
    const hostile = listenScripted(meta, HOSTILE_HOST, "short", {
      start: (wire) => wire.send({ type: "unchoke" }),
      message(m, wire) {
        if (m.type !== "request") return;
        const at = m.index * PIECE + m.begin;
        wire.send({ type: "piece", index: m.index, begin: m.begin, block: source.subarray(at, at + m.length - 1) });
        wire.send({ type: "unchoke" }); // (a repeated unchoke) makes the leecher top up our requests at once
      },
    });
    const { leecher } = await leechAfterClose(hostile, "short", ["--pool", "1"]);
    const said = new RegExp(`peer ${hostile.address} closed: protocol error: block \\d+:\\d+ of \\d+ bytes`);
    expect(await stderrSays(leecher, said)).toMatch(said);
  }, 150_000);

  test("a choke/unchoke storm gets a bounded number of requests and the peer is disconnected", async () => {
    const storm = new Uint8Array(32_000 * 10);
    const choke = encodeMessage({ type: "choke" });
    const unchoke = encodeMessage({ type: "unchoke" });
    for (let i = 0; i < 32_000; i++) {
      storm.set(choke, i * 10);
      storm.set(unchoke, i * 10 + 5);
    }
    let stormed = false;
    const hostile = listenScripted(meta, HOSTILE_HOST, "storm", {
      message(m, wire) {
        if (m.type !== "interested" || stormed) return;
        stormed = true;
        wire.sendRaw(storm);
      },
    });
    const { leecher } = await leechAfterClose(hostile, "storm");
    expect(stormed).toBe(true);
    expect(hostile.stats.requests).toBeLessThan(2_000); // was 16 per toggle
    const said = new RegExp(`peer ${hostile.address} closed: protocol error: choked us \\d+ times`);
    expect(await stderrSays(leecher, said)).toMatch(said);
  }, 150_000);
});
