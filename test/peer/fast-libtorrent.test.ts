// The fast extension (BEP 6) against a real libtorrent, both ways, read from libtorrent's own log of the
// wire (lt_peer.py --peer-log): seeding to it, btpeer says have-all (never a bitfield) and grants an
// allowed fast set; leeching from a libtorrent seeder that never unchokes, btpeer reads its have-all and
// fetches the allowed fast pieces it grants while choked; and a libtorrent seeder that stops unchoking with
// requests queued rejects them, which frees them: btpeer still completes, byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer, type LtEvent, type LtPeerLog } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";

const PIECE = 64 * 1024;
let dir = "";
let torrent = "";
let meta: Metainfo;
let source = "";

const logOf = (lines: LtEvent[], port: number) => lines.filter((e): e is LtPeerLog => e.event === "peer-log" && (e as LtPeerLog).port === port);

describe.skipIf(!needs(PROGRAMS.libtorrent))("fast extension with libtorrent", () => {
  beforeAll(async () => {
    dir = makeTempDir("btpeer-fast-lt-");
    source = path.join(dir, "src", "data.bin");
    makeRandomFile(source, 4 * 1024 * 1024 + 321, 61);
    torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: PIECE });
    meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  });
  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("seeding to libtorrent: it reads have-all, not a bitfield, and an allowed fast set, and completes", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src")], { name: "btpeer seeder" });
    const lt = await startLtPeer({ mode: "download", torrent, dir: path.join(dir, "lt-out"), peers: [seeder.address], noTrackers: true, peerLog: true });
    await lt.finished();
    expect(await sha256File(path.join(dir, "lt-out", "data.bin"))).toBe(await sha256File(source));
    const fromUs = logOf(lt.lines, seeder.port).filter((e) => e.dir === "in");
    expect(fromUs.some((e) => e.msg === "HAVE_ALL")).toBe(true);
    expect(fromUs.some((e) => e.msg === "BITFIELD")).toBe(false);
    expect(fromUs.filter((e) => e.msg === "ALLOWED_FAST").length).toBeGreaterThan(0);
    await lt.stop();
    await seeder.stop();
  }, 120_000);

  test("leeching from a libtorrent seeder that never unchokes: btpeer reads its have-all and fetches the allowed fast pieces while choked", async () => {
    const lt = await startLtPeer({ mode: "seed", torrent, dir: path.join(dir, "src"), noTrackers: true, noUnchoke: true, peerLog: true });
    const out = path.join(dir, "choked-out");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", lt.address], { name: "btpeer leecher" });
    // libtorrent grants its allowed_fast_set_size (5) pieces; btpeer fetches every one of them, and nothing else.
    const ALLOWED = 5;
    await lt.whileRunning(leecher.waitFor((e) => e.event === "progress" && Number(e.have) >= ALLOWED, 60_000));
    await leecher.stop();
    const granted = (e: LtEvent) => e.event === "peer-log" && (e as LtPeerLog).msg === "ALLOWED_FAST" && (e as LtPeerLog).dir === "out";
    const port = (lt.lines.find(granted) as LtPeerLog).port;
    const toUs = logOf(lt.lines, port).filter((e) => e.dir === "out");
    const allowed = new Set(toUs.filter(granted).map((e) => Number(/\[ (\d+) \]/.exec(e.text)![1])));
    expect(allowed.size).toBe(ALLOWED);
    expect(toUs.some((e) => e.msg === "HAVE_ALL")).toBe(true);
    expect(toUs.some((e) => e.msg === "UNCHOKE")).toBe(false); // every piece came while choked
    // The pieces on disk that match the source are exactly the allowed fast ones.
    const got = fs.readFileSync(path.join(out, "data.bin"));
    const want = fs.readFileSync(source);
    const whole = [...Array(meta.pieceCount).keys()].filter((i) => {
      const a = got.subarray(i * PIECE, (i + 1) * PIECE);
      return a.length > 0 && a.equals(want.subarray(i * PIECE, (i + 1) * PIECE));
    });
    expect(new Set(whole)).toEqual(allowed);
    await lt.stop();
  }, 120_000);

  test("a libtorrent seeder that stops unchoking with requests queued rejects them; btpeer asks again once unchoked and completes", async () => {
    const lt = await startLtPeer({
      mode: "seed",
      torrent,
      dir: path.join(dir, "src"),
      noTrackers: true,
      peerLog: true,
      uploadLimit: 512 * 1024,
      chokeAt: 1024 * 1024,
      chokeFor: 3,
    });
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "reject-out"), "--no-seed", "--peer", lt.address], {
      name: "btpeer leecher",
      env: { BTPEER_DEBUG: "1" },
    });
    const done = await lt.whileRunning(leecher.waitFor(isEvent("completed"), 90_000));
    expect(done.have).toBe(meta.pieceCount);
    expect(await sha256File(path.join(dir, "reject-out", "data.bin"))).toBe(await sha256File(source));
    const rejects = lt.lines.filter((e) => e.event === "peer-log" && (e as LtPeerLog).msg === "REJECT_PIECE" && (e as LtPeerLog).dir === "out");
    expect(rejects.length).toBeGreaterThan(0);
    expect(lt.lines.some((e) => e.event === "unchoked-all")).toBe(true);
    expect(leecher.service.errLines.filter((l) => l.includes("protocol error"))).toEqual([]);
    await lt.stop();
  }, 120_000);
});
