// A real client that sends no Host header: ctorrent announces over HTTP/1.0 without one. It seeds a
// torrent through our tracker (`npm start`, Bun, embedded store) and the tracker must have listed it,
// as a scrape shows. Before the tracker read paths from the URL text, each of its announces got a
// 500 from Bun and it was never listed.
import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { fromHex } from "../shared/bytes.ts";
import { makeTorrent, startTracker, type Tracker } from "./peer/btpeer-harness.ts";
import { makeRandomFile, makeTempDir, removeDir } from "./support/files.ts";
import { freePort } from "./support/ports.ts";
import { spawnService, type Service } from "./support/processes.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { infoHashHex } from "./support/torrents.ts";
import { escapeAll, get, scrapeFiles } from "./tracker/http.ts";

describe.skipIf(!needs(PROGRAMS.ctorrent))("ctorrent (HTTP/1.0, no Host header) through the tracker on Bun", () => {
  const tmp = makeTempDir("tracker-ctorrent-");
  let tracker: Tracker | undefined;
  let ctorrent: Service | undefined;
  afterAll(async () => {
    await ctorrent?.stop();
    await tracker?.stop();
    removeDir(tmp);
  }, 30_000);

  test("a ctorrent seeder's announce is answered and recorded: a scrape counts it as a seeder", async () => {
    tracker = await startTracker();
    const file = path.join(tmp, "payload.bin");
    makeRandomFile(file, 300_000, 7);
    const torrent = await makeTorrent(file, path.join(tmp, "payload.torrent"), { trackers: [tracker.announce] });
    const hash = infoHashHex(torrent);
    // -e 1: seed for an hour (the test stops it); -b: its piece record apart from the torrent.
    ctorrent = await spawnService({
      name: "ctorrent",
      cwd: tmp,
      cmd: ["ctorrent", "-e", "1", "-p", String(freePort()), "-b", path.join(tmp, "payload.bf"), "-s", file, torrent],
    });
    const scrapeUrl = `${tracker.announce.replace("/announce", "/scrape")}?info_hash=${escapeAll(fromHex(hash)!)}`;
    let seeders = 0;
    const deadline = Date.now() + 60_000;
    while (seeders === 0 && Date.now() < deadline && !ctorrent.hasExited) {
      await Bun.sleep(200);
      seeders = scrapeFiles((await get(scrapeUrl)).body).get(hash)?.complete ?? 0;
    }
    expect(seeders, `ctorrent was never listed\n${ctorrent.output().slice(-2000)}`).toBe(1);
  }, 90_000);
});
