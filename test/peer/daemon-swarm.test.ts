// One `btpeer daemon` (dist/btpeer), one peer port, three torrents at once with real clients: one it
// downloads from a libtorrent seeder, one from a btpeer seeder, one it seeds to aria2c (which finds it
// through our tracker) and to a libtorrent leecher. The two torrents it downloads name no tracker, so the
// daemon cannot find their seeders: each seeder is given the daemon's one port and dials in, and its
// connection reaches the right torrent by the info hash of its handshake. Everything is checked by SHA-256.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { startAria2 } from "../support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { makeTorrent, startBtpeer, startTracker, type Tracker } from "./btpeer-harness.ts";
import { startDaemon, torrentEvent } from "./daemon-harness.ts";

const PIECE = 64 * 1024;
let dir = "";
let tracker: Tracker;

const infoHashOf = (file: string) => Buffer.from(parseMetainfo(new Uint8Array(fs.readFileSync(file))).infoHash).toString("hex");

beforeAll(async () => {
  dir = makeTempDir("btpeer-daemon-swarm-");
  tracker = await startTracker();
}, 60_000);

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 60_000);

describe.skipIf(!needs(PROGRAMS.libtorrent, PROGRAMS.aria2))("btpeer daemon: three torrents on one port", () => {
  test("downloads from libtorrent and from btpeer while seeding to aria2c and libtorrent, all at once", async () => {
    const src = path.join(dir, "src");
    const downloads = path.join(dir, "downloads");
    fs.mkdirSync(src, { recursive: true });
    fs.mkdirSync(downloads, { recursive: true });
    makeRandomFile(path.join(src, "from-lt.bin"), 3 * 1024 * 1024 + 1234, 301);
    makeRandomFile(path.join(src, "from-btpeer.bin"), 2 * 1024 * 1024 + 4321, 302);
    // What the daemon seeds is in its download folder already.
    makeRandomFile(path.join(downloads, "to-leechers.bin"), 2 * 1024 * 1024 + 999, 303);
    const fromLt = await makeTorrent(path.join(src, "from-lt.bin"), path.join(dir, "from-lt.torrent"), { pieceLength: PIECE });
    const fromBtpeer = await makeTorrent(path.join(src, "from-btpeer.bin"), path.join(dir, "from-btpeer.torrent"), { pieceLength: PIECE });
    const toLeechers = await makeTorrent(path.join(downloads, "to-leechers.bin"), path.join(dir, "to-leechers.torrent"), {
      pieceLength: PIECE,
      trackers: [tracker.announce],
    });
    const [ltHash, btHash, seedHash] = [fromLt, fromBtpeer, toLeechers].map(infoHashOf) as [string, string, string];

    const daemon = await startDaemon({ stateDir: path.join(dir, "state"), downloadDir: downloads, watchDir: path.join(dir, "watch") });
    for (const t of [fromLt, fromBtpeer, toLeechers]) daemon.drop(t);
    for (const hash of [ltHash, btHash, seedHash]) expect(await daemon.waitFor(torrentEvent("started", hash))).toMatchObject({ port: daemon.port });
    // The daemon announced before aria2c did, so the tracker tells aria2c of the daemon, not the reverse.
    await daemon.waitFor(torrentEvent("tracker", seedHash));
    const port = `127.0.0.1:${daemon.port}`;

    const ltSeeder = await startLtPeer({ mode: "seed", torrent: fromLt, dir: src, noTrackers: true, peers: [port], name: "libtorrent seeder" });
    const btSeeder = await startBtpeer(["seed", fromBtpeer, "--dir", src, "--peer", port], { name: "btpeer seeder" });
    const ariaOut = path.join(dir, "aria2");
    const ltOut = path.join(dir, "lt-leecher");
    fs.mkdirSync(ltOut, { recursive: true });
    const aria2 = await startAria2({ torrent: toLeechers, dir: ariaOut, stallTimeoutS: 60 });
    const ltLeecher = await startLtPeer({ mode: "download", torrent: toLeechers, dir: ltOut, noTrackers: true, peers: [port], name: "libtorrent leecher" });

    const fromLtDone = await daemon.waitFor(torrentEvent("completed", ltHash), 180_000);
    const fromBtDone = await daemon.waitFor(torrentEvent("completed", btHash), 180_000);
    expect(fromLtDone).toMatchObject({ fetchedPieces: fromLtDone.pieces });
    expect(fromBtDone).toMatchObject({ fetchedPieces: fromBtDone.pieces });
    await aria2.done();
    await ltLeecher.finished(180_000);

    expect(await sha256File(path.join(downloads, "from-lt.bin"))).toBe(await sha256File(path.join(src, "from-lt.bin")));
    expect(await sha256File(path.join(downloads, "from-btpeer.bin"))).toBe(await sha256File(path.join(src, "from-btpeer.bin")));
    const seeded = await sha256File(path.join(downloads, "to-leechers.bin"));
    expect(await sha256File(path.join(ariaOut, "to-leechers.bin"))).toBe(seeded);
    expect(await sha256File(path.join(ltOut, "to-leechers.bin"))).toBe(seeded);

    await Promise.all([ltSeeder.stop(), btSeeder.stop(), ltLeecher.stop()]);
    expect(await daemon.stop()).toBe(0);
  }, 400_000);
});
