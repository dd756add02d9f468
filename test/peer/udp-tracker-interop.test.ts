// btpeer and libtorrent find each other only through a UDP tracker (BEP 15): the torrent (made by
// mktorrent) names nothing but udp://127.0.0.1:PORT/announce of opentracker, libtorrent runs with
// DHT, local discovery and PEX off and no peer given, btpeer is given no --peer. Both directions,
// checked with SHA-256. Then two btpeers through our own tracker's UDP endpoint on ::1 (IPv6 peers).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { startOpentracker, type Opentracker } from "../support/opentracker.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { infoHashHex, mktorrent } from "../support/torrents.ts";
import { startBunTracker } from "../tracker/udp-servers.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";

let dir = "";
beforeAll(() => {
  dir = makeTempDir("btpeer-udp-interop-");
});
afterAll(async () => {
  await stopAllServices();
  if (dir) removeDir(dir);
}, 30_000);

describe.skipIf(!needs(PROGRAMS.libtorrent, PROGRAMS.mktorrent, PROGRAMS.opentracker))("btpeer and libtorrent through opentracker over UDP only", () => {
  let ot: Opentracker;
  let udpUrl = "";
  const torrents: Record<"btpeerSeeds" | "ltSeeds", { torrent: string; source: string }> = {} as never;

  beforeAll(async () => {
    const port = freePort();
    udpUrl = `udp://127.0.0.1:${port}/announce`;
    for (const [key, size, seed] of [
      ["btpeerSeeds", 5 * 1024 * 1024 + 777, 31],
      ["ltSeeds", 4 * 1024 * 1024 + 99, 32],
    ] as const) {
      const source = path.join(dir, key, "src", `${key}.bin`);
      makeRandomFile(source, size, seed);
      torrents[key] = { source, torrent: mktorrent({ source, out: path.join(dir, `${key}.torrent`), pieceLength: 64 * 1024, trackers: [udpUrl] }) };
    }
    // opentracker serves only whitelisted torrents; -P opens its UDP port (the same number as TCP here).
    ot = await startOpentracker({
      infoHashes: Object.values(torrents).map((t) => infoHashHex(t.torrent)),
      dir: path.join(dir, "opentracker"),
      port,
      udpPort: port,
    });
  }, 60_000);
  afterAll(async () => {
    await ot?.stop();
  }, 30_000);

  test("a libtorrent leecher downloads from a btpeer seeder it learnt of from opentracker over UDP", async () => {
    const { torrent, source } = torrents.btpeerSeeds;
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "btpeer seeder" });
    try {
      const announced = await seeder.waitFor(isEvent("tracker"), 30_000);
      expect(announced.tracker).toBe(udpUrl);
      const out = path.join(dir, "lt-out");
      fs.mkdirSync(out, { recursive: true });
      const lt = await startLtPeer({ mode: "download", torrent, dir: out, trackerOnly: true, name: "libtorrent leecher" });
      await lt.finished(120_000);
      await lt.stop();
      expect(await sha256File(path.join(out, path.basename(source)))).toBe(await sha256File(source));
      const served = await seeder.waitFor((e) => e.event === "progress" && Number(e.uploaded) >= fs.statSync(source).size, 30_000);
      expect(Number(served.uploaded)).toBeGreaterThanOrEqual(fs.statSync(source).size);
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 180_000);

  test("btpeer downloads from a libtorrent seeder it learnt of from opentracker over UDP", async () => {
    const { torrent, source } = torrents.ltSeeds;
    const lt = await startLtPeer({ mode: "seed", torrent, dir: path.dirname(source), trackerOnly: true, name: "libtorrent seeder" });
    try {
      await lt.waitFor((e) => e.event === "tracker-reply", 60_000);
      const out = path.join(dir, "btpeer-out");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed"], { name: "btpeer leecher" });
      const heard = await leecher.waitFor((e) => e.event === "tracker" && Number(e.peers) > 0, 60_000);
      expect(heard.tracker).toBe(udpUrl);
      const done = await leecher.waitFor(isEvent("completed"), 120_000);
      expect(done.have).toBe(done.pieces);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, path.basename(source)))).toBe(await sha256File(source));
    } finally {
      await lt.stop();
    }
  }, 180_000);
});

function ipv6LoopbackBindable(): boolean {
  try {
    Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!ipv6LoopbackBindable())("two btpeers through our tracker's UDP endpoint on ::1", () => {
  test("the leecher learns the seeder as an IPv6 peer from a UDP announce and downloads it whole", async () => {
    const tracker = await startBunTracker({ host: "::1" });
    try {
      const source = path.join(dir, "v6", "src", "v6.bin");
      makeRandomFile(source, 3 * 1024 * 1024 + 5, 33);
      const torrent = await makeTorrent(source, path.join(dir, "v6.torrent"), { trackers: [tracker.announceUrl], pieceLength: 32 * 1024 });
      const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "btpeer v6 seeder" });
      try {
        await seeder.waitFor(isEvent("tracker"), 30_000);
        const out = path.join(dir, "v6-out");
        const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed"], { name: "btpeer v6 leecher" });
        const heard = await leecher.waitFor((e) => e.event === "tracker" && Number(e.peers) > 0, 30_000);
        expect(heard.tracker).toBe(tracker.announceUrl);
        await leecher.waitFor(isEvent("completed"), 120_000);
        expect(await leecher.service.exited).toBe(0);
        expect(await sha256File(path.join(out, "v6.bin"))).toBe(await sha256File(source));
      } finally {
        expect(await seeder.stop()).toBe(0);
      }
    } finally {
      await tracker.stop();
    }
  }, 180_000);
});
