// Magnet links against independent clients on loopback (BEP 9 over BEP 10): btpeer fetches the metadata
// from a libtorrent seeder (x.pe) and from an aria2c seeder (found through the link's tr= tracker), then
// downloads the data; libtorrent, given a magnet link whose x.pe is a btpeer seeder, fetches the metadata
// from btpeer and completes. Every download is checked file by file with SHA-256. The info dictionary
// (many files with long names) spans several 16 KiB metadata pieces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { formatMagnet } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { metadataPieceCount } from "../../shared/wire/ut-metadata.ts";
import { startAria2 } from "../support/aria2.ts";
import { removeDir } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer, startTracker } from "./btpeer-harness.ts";
import { expectSameTree, makeManyFiles, seedFixture } from "../support/seed-fixture.ts";

let dir = "";
let source = "";
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  ({ dir, source, torrent, meta } = await seedFixture("btpeer-magnet-interop-", "many", 16384, (folder) =>
    makeManyFiles(folder, 600, (i) => 3000 + i * 11, { size: 2_000_003, seed: 777 }),
  ));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const expectDownloaded = (out: string) => expectSameTree(path.join(out, "many"), source);

describe.skipIf(!needs(PROGRAMS.libtorrent))("magnet links with libtorrent", () => {
  test("btpeer fetches the metadata from a libtorrent seeder (x.pe), then downloads", async () => {
    expect(metadataPieceCount(meta.infoBytes.length)).toBeGreaterThanOrEqual(3);
    const seeder = await startLtPeer({ mode: "seed", torrent, dir: path.dirname(source), noTrackers: true, name: "libtorrent seeder" });
    const out = path.join(dir, "from-lt");
    const link = formatMagnet({ infoHash: meta.infoHash, peers: [seeder.address] });
    const leecher = await startBtpeer(["download", link, "--out", out, "--no-seed"], { name: "btpeer magnet leecher", readyEvent: "magnet" });
    const done = await leecher.waitFor((e) => e.event === "metadata" && e.done === true);
    expect(done.total).toBe(metadataPieceCount(meta.infoBytes.length));
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    await seeder.stop();
  }, 180_000);

  test("libtorrent fetches the metadata from a btpeer seeder (magnet with x.pe), then downloads", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "btpeer seeder" });
    const out = path.join(dir, "lt-from-btpeer");
    const link = formatMagnet({ infoHash: meta.infoHash, peers: [seeder.address] });
    const leecher = await startLtPeer({
      mode: "download",
      torrent: link,
      dir: out,
      peers: [seeder.address],
      noTrackers: true,
      name: "libtorrent magnet leecher",
    });
    const got = await leecher.waitFor((e) => e.event === "metadata" || e.event === "error");
    expect(got.event).toBe("metadata");
    expect(got.pieces).toBe(meta.pieceCount);
    await leecher.finished();
    await expectDownloaded(out);
    await seeder.stop();
  }, 180_000);
});

describe.skipIf(!needs(PROGRAMS.aria2))("magnet links with aria2c", () => {
  test("btpeer fetches the metadata from an aria2c seeder found through the link's tracker, then downloads", async () => {
    const tracker = await startTracker();
    const tracked = await makeTorrent(source, path.join(dir, "tracked.torrent"), { pieceLength: 16384, trackers: [tracker.announce] });
    const trackedMeta = parseMetainfo(new Uint8Array(fs.readFileSync(tracked)));
    const seedDir = path.join(dir, "aria-seed");
    fs.cpSync(source, path.join(seedDir, "many"), { recursive: true });
    const aria = await startAria2({ torrent: tracked, dir: seedDir, seedTimeMin: 10, seedRatio: 0, trackerIntervalS: 2, name: "aria2c seeder" });
    const out = path.join(dir, "from-aria2");
    const link = formatMagnet({ infoHash: trackedMeta.infoHash, trackers: [tracker.announce] });
    const leecher = await startBtpeer(["download", link, "--out", out, "--no-seed"], { name: "btpeer magnet leecher (aria2c)", readyEvent: "magnet" });
    await leecher.waitFor((e) => e.event === "metadata" && e.done === true, 150_000);
    await leecher.waitFor(isEvent("completed"), 150_000);
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    await aria.stop();
    await tracker.stop();
  }, 240_000);
});
