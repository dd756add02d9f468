// What happens around a magnet link's metadata phase: the connection the metadata came over carries the
// data too (the seeder's bitfield, sent while the piece count was unknown, is kept); a link whose tracker
// is udp:// finds its peers over BEP 15, one with no tracker and no peer through the DHT (on loopback: the
// tests' BTPEER_DHT_LOOPBACK_ONLY=1); and without --json the user sees the metadata phase in plain lines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { formatMagnet } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { makeRandomFile, removeDir } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { spawnService, stopAllServices } from "../support/processes.ts";
import { CLI, isEvent, makeTorrent, startBtpeer, startTracker } from "./btpeer-harness.ts";
import { expectSameTree, makeManyFiles, seedFixture } from "../support/seed-fixture.ts";

let dir = "";
let source = "";
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  ({ dir, source, torrent, meta } = await seedFixture("btpeer-magnet-handover-", "many", 16384, (folder) =>
    makeManyFiles(folder, 300, (i) => 4000 + i, { size: 1_000_003, seed: 5 }),
  ));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const expectDownloaded = (out: string) => expectSameTree(path.join(out, "many"), source);

describe("btpeer download <magnet>: the metadata phase and after", () => {
  test("one connection to the seeder carries the metadata and then every piece: none is closed or dialled again", async () => {
    // BTPEER_DEBUG: the seeder logs every connection it closes or loses, with why.
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "logging seeder", env: { BTPEER_DEBUG: "1" } });
    const out = path.join(dir, "one-connection");
    const link = formatMagnet({ infoHash: meta.infoHash, peers: [seeder.address] });
    const leecher = await startBtpeer(["download", link, "--out", out, "--no-seed"], { name: "magnet leecher", readyEvent: "magnet" });
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    await seeder.stop();
    const closes = seeder.service.errLines.filter((l) => / closed: /.test(l));
    expect(closes).toHaveLength(1); // the leecher leaving at the end (a close or a reset, as its process exits)
    expect(closes[0]).toMatch(/closed by peer|connection lost/);
  }, 120_000);

  test("a udp:// tracker in the link: the peers come over BEP 15", async () => {
    const tracker = await startTracker(); // the Bun tracker serves UDP on its HTTP port's number
    const udp = tracker.announce.replace(/^http:/, "udp:");
    const tracked = await makeTorrent(source, path.join(dir, "udp.torrent"), { pieceLength: 16384, trackers: [udp] });
    const trackedMeta = parseMetainfo(new Uint8Array(fs.readFileSync(tracked)));
    const seeder = await startBtpeer(["seed", tracked, "--dir", path.dirname(source)], { name: "udp-tracked seeder" });
    await seeder.waitFor(isEvent("tracker"));
    const out = path.join(dir, "udp");
    const leecher = await startBtpeer(["download", formatMagnet({ infoHash: trackedMeta.infoHash, trackers: [udp] }), "--out", out, "--no-seed"], {
      name: "udp magnet leecher",
      readyEvent: "magnet",
    });
    const announced = await leecher.waitFor(isEvent("tracker"));
    expect(announced.tracker).toBe(udp);
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    await seeder.stop();
    await tracker.stop();
  }, 120_000);

  test("a link with no tracker and no peer: the DHT finds the seeder, the metadata and the data follow", async () => {
    const nobody = "127.0.0.1:1"; // a bootstrap that finds no one, without leaving the machine
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--dht-bootstrap", nobody], { name: "dht seeder" });
    await seeder.waitFor(isEvent("dht-joined"));
    // A second node joins through the seeder's, so the seeder's announce has somewhere to go.
    const other = path.join(dir, "other");
    makeRandomFile(path.join(other, "other.bin"), 100_000, 77);
    const otherTorrent = await makeTorrent(path.join(other, "other.bin"), path.join(dir, "other.torrent"));
    const node = await startBtpeer(["seed", otherTorrent, "--dir", other, "--dht-bootstrap", seeder.address], { name: "dht node" });
    await node.waitFor(isEvent("dht-joined"));
    await seeder.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1);
    const out = path.join(dir, "dht");
    const leecher = await startBtpeer(["download", formatMagnet({ infoHash: meta.infoHash }), "--out", out, "--no-seed", "--dht-bootstrap", node.address], {
      name: "dht magnet leecher",
      readyEvent: "magnet",
    });
    await leecher.waitFor((e) => e.event === "dht" && Number(e.peers) >= 1);
    await leecher.waitFor((e) => e.event === "metadata" && e.done === true);
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    await node.stop();
    await seeder.stop();
  }, 180_000);

  test("a link with no tracker and no peer, and no DHT (off, or no node answering): exit 6 with the reason", async () => {
    const link = formatMagnet({ infoHash: meta.infoHash });
    for (const args of [["--no-dht"], ["--dht-bootstrap", "127.0.0.1:1"]]) {
      const r = Bun.spawn([process.execPath, CLI, "download", link, "--out", path.join(dir, "nowhere"), "--port", String(freePort()), ...args], {
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await r.exited).toBe(6);
      expect(await new Response(r.stderr).text()).toMatch(/no usable tracker .*no (--)?peer given/);
    }
  }, 60_000);

  test("without --json: a line for the metadata phase, one when the metadata is verified, then the usual ones", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "seeder for the human run" });
    const out = path.join(dir, "human");
    const link = formatMagnet({ infoHash: meta.infoHash, name: "many", peers: [seeder.address] });
    const human = await spawnService({
      name: "human magnet download",
      cmd: [process.execPath, CLI, "download", link, "--out", out, "--no-seed", "--port", String(freePort())],
      ready: { line: /^complete: / },
      readyTimeoutMs: 60_000,
    });
    expect(await human.exited).toBe(0);
    const text = human.lines.join("\n");
    expect(text).toMatch(/^many: fetching the metadata from peers; listening on port \d+$/m);
    expect(text).toMatch(/^metadata: \d+ pieces received and verified$/m);
    expect(text).toMatch(/^many: .* pieces, 0 already on disk; listening on port \d+/m);
    expect(text).not.toContain('"event":');
    await expectDownloaded(out);
    await seeder.stop();
  }, 120_000);
});
