// Peer exchange (ut_pex, BEP 11) with a real libtorrent, both ways. libtorrent → btpeer: a btpeer leecher
// that knows only a libtorrent peer (which never uploads) learns a btpeer seeder from its PEX and downloads
// everything from that seeder. btpeer → libtorrent: a libtorrent leecher that knows only a btpeer learns,
// from its PEX, a scripted peer that btpeer dialled, and dials it itself (its peer list says: through PEX).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { LT_SOURCE, startLtPeer, type LtPeerEntry } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { listenScripted, type ListeningPeer } from "./hostile-peers.ts";

let dir = "";
let torrent = "";
let meta: Metainfo;
let source = "";
const listeners: ListeningPeer[] = [];

describe.skipIf(!needs(PROGRAMS.libtorrent))("peer exchange with libtorrent", () => {
  beforeAll(async () => {
    dir = makeTempDir("btpeer-pex-lt-");
    source = path.join(dir, "src", "data.bin");
    makeRandomFile(source, 3 * 1024 * 1024 + 555, 81);
    torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
    meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  });
  afterAll(async () => {
    for (const l of listeners) l.stop();
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("a btpeer leecher that knows only libtorrent learns the btpeer seeder from its PEX and downloads everything from it", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src")], { name: "btpeer seeder" });
    // libtorrent knows the seeder, and never unchokes anyone nor grants an allowed fast set: it can only introduce.
    // Its download is held to 32 KiB/s (over 90 s for the 3 MiB), so it is still downloading, connected to the
    // seeder it tells of, for the whole test: once complete it would drop the seeder (both seeds), and a
    // leecher coming after that learnt nothing (the seeder paced at 512 KiB/s instead gave it 6 s).
    const lt = await startLtPeer({
      mode: "download",
      torrent,
      dir: path.join(dir, "lt-out"),
      peers: [seeder.address],
      noTrackers: true,
      noUnchoke: true,
      allowedFast: 0,
      downloadLimit: 32 * 1024,
      keepSeeding: true,
    });
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "out"), "--no-seed", "--peer", lt.address], {
      name: "btpeer leecher",
      env: { BTPEER_DEBUG: "1" },
    });
    const learned = await leecher.waitFor(isEvent("peers-learned"), 60_000);
    expect(learned.peer).toBe(lt.address);
    const done = await leecher.waitFor(isEvent("completed"), 90_000);
    expect(done.have).toBe(meta.pieceCount);
    expect(await sha256File(path.join(dir, "out", "data.bin"))).toBe(await sha256File(source));
    // Every byte came from the seeder: libtorrent sent none, and the seeder sent at least the whole file.
    const ltStatus = await lt.waitFor((e) => e.event === "status" && e.t > Date.now() / 1000, 30_000);
    expect(ltStatus.total_upload).toBe(0);
    const seederSent = await seeder.waitFor((e) => e.event === "progress" && Number(e.uploaded) >= meta.length, 30_000);
    expect(Number(seederSent.uploaded)).toBeGreaterThanOrEqual(meta.length);
    expect(leecher.service.output()).not.toContain("connected to ourselves");
    await lt.stop();
    await seeder.stop();
  }, 150_000);

  test("a libtorrent leecher that knows only btpeer learns, from btpeer's PEX, a peer btpeer dialled, and dials it", async () => {
    const introduced = listenScripted(meta, "127.0.0.4", "introduced", {}, { bitfield: new Uint8Array(Math.ceil(meta.pieceCount / 8)) });
    listeners.push(introduced);
    const lt = await startLtPeer({ mode: "download", torrent, dir: path.join(dir, "lt-out2"), noTrackers: true, listPeers: true, timeoutS: 120 });
    const btpeer = await startBtpeer(["download", torrent, "--out", path.join(dir, "out2"), "--no-seed", "--peer", lt.address, "--peer", introduced.address], {
      name: "btpeer leecher",
    });
    const viaPex = (p: LtPeerEntry) => p.ip === "127.0.0.4" && p.port === introduced.port && (p.source & LT_SOURCE.pex) !== 0;
    const listed = await lt.waitFor((e) => e.event === "peers" && (e.peers as LtPeerEntry[]).some(viaPex), 60_000);
    expect((listed.peers as LtPeerEntry[]).find(viaPex)!.outgoing).toBe(true);
    expect(introduced.stats.admitted).toBeGreaterThanOrEqual(2); // btpeer's dial and libtorrent's
    await btpeer.stop();
    await lt.stop();
  }, 120_000);
});
