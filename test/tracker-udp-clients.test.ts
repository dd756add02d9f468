// Real BitTorrent clients announce over UDP (BEP 15) to our tracker, the real Bun entry, and find each
// other through it. The torrent (made by mktorrent) names only the udp:// tracker; DHT, local peer
// discovery and PEX are off in every client, so the tracker is the only way they can meet. A
// libtorrent seeder serves libtorrent, aria2 and qBittorrent leechers, each of whose `completed`
// announce shows up in the tracker's UDP scrape; Transmission seeds a torrent of its own to a
// libtorrent leecher.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { fromHex } from "../shared/bytes.ts";
import { startAria2 } from "./support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "./support/files.ts";
import { startLtPeer, type LtPeer } from "./support/libtorrent.ts";
import { stopAllServices } from "./support/processes.ts";
import { startQbittorrent } from "./support/qbittorrent.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { infoHashHex, mktorrent } from "./support/torrents.ts";
import { startTransmissionCli } from "./support/transmission.ts";
import { UdpTrackerClient } from "./tracker/udp-client.ts";
import { startBunTracker, type UdpTrackerProcess } from "./tracker/udp-servers.ts";

const ready = needs(PROGRAMS.libtorrent, PROGRAMS.mktorrent, PROGRAMS.aria2, PROGRAMS.transmissionCli, PROGRAMS.qbittorrent);
const SIZE = 6 * 1024 * 1024 + 4321;

describe.skipIf(!ready)("real clients over UDP to the tracker", () => {
  let tmp: string;
  let tracker: UdpTrackerProcess;
  let udp: UdpTrackerClient;
  let torrent: string;
  let hash: Uint8Array;
  let sourceSum: string;
  let seeder: LtPeer;

  const counts = async () => (await udp.scrape([hash])).entries[0]!;
  /** Polls the tracker's scrape until `completed` reaches `n` (clients announce `completed` after verifying). */
  const completedReaches = async (n: number) => {
    const deadline = Date.now() + 30_000;
    let c = await counts();
    while (c.completed < n && Date.now() < deadline) {
      await Bun.sleep(200);
      c = await counts();
    }
    return c.completed;
  };

  beforeAll(async () => {
    tmp = makeTempDir("tracker-udp-clients-");
    makeRandomFile(path.join(tmp, "seed", "payload.bin"), SIZE, 7);
    sourceSum = await sha256File(path.join(tmp, "seed", "payload.bin"));
    // Short intervals, so a client that announced before the others hears of them quickly.
    tracker = await startBunTracker({ host: "127.0.0.1", env: { TRACKER_INTERVAL: "5", TRACKER_MIN_INTERVAL: "2", TRACKER_INTERVAL_SPREAD: "1" } });
    torrent = mktorrent({ source: path.join(tmp, "seed", "payload.bin"), out: path.join(tmp, "payload.torrent"), trackers: [tracker.announceUrl] });
    hash = fromHex(infoHashHex(torrent))!;
    udp = await UdpTrackerClient.open("127.0.0.1", tracker.port);
    seeder = await startLtPeer({ mode: "seed", torrent, dir: path.join(tmp, "seed"), trackerOnly: true, name: "lt seeder" });
    await seeder.waitFor((e) => e.event === "tracker-reply");
  }, 120_000);

  afterAll(async () => {
    udp?.close();
    await stopAllServices();
    await tracker?.stop();
    removeDir(tmp);
  }, 60_000);

  test("a libtorrent seeder announces over UDP: the tracker counts it", async () => {
    expect(await counts()).toEqual({ seeders: 1, completed: 0, leechers: 0 });
  });

  test("a libtorrent leecher finds the seeder through the UDP tracker and completes", async () => {
    const before = (await counts()).completed;
    const leecher = await startLtPeer({
      mode: "download",
      torrent,
      dir: path.join(tmp, "lt"),
      trackerOnly: true,
      keepSeeding: true,
      timeoutS: 90,
      name: "lt leecher",
    });
    await leecher.finished();
    expect(await sha256File(path.join(tmp, "lt", "payload.bin"))).toBe(sourceSum);
    expect(await completedReaches(before + 1)).toBe(before + 1);
  }, 120_000);

  test("aria2c finds the swarm through the UDP tracker, downloads and verifies", async () => {
    const before = (await counts()).completed;
    // aria2c sends `completed` only when it goes on seeding.
    const aria = await startAria2({ torrent, dir: path.join(tmp, "aria"), seedTimeMin: 0.05, udpTrackers: true, name: "aria2c leecher" });
    await aria.done();
    expect(await sha256File(path.join(tmp, "aria", "payload.bin"))).toBe(sourceSum);
    expect(await completedReaches(before + 1)).toBe(before + 1);
  }, 120_000);

  test("qBittorrent finds the swarm through the UDP tracker and completes", async () => {
    const before = (await counts()).completed;
    const qb = await startQbittorrent({ torrent, dir: path.join(tmp, "qbittorrent"), profileDir: path.join(tmp, "qbittorrent-profile") });
    await qb.finished();
    expect(await sha256File(path.join(tmp, "qbittorrent", "payload.bin"))).toBe(sourceSum);
    expect(await completedReaches(before + 1)).toBe(before + 1);
    await qb.stop();
  }, 150_000);

  // Transmission does not dial loopback peers a tracker names (see support/transmission.ts): it is the
  // only seeder of a torrent of its own here, and a libtorrent leecher finds it through the tracker.
  test("Transmission seeds through the UDP tracker: a libtorrent leecher finds it there and completes", async () => {
    const dir = path.join(tmp, "transmission");
    makeRandomFile(path.join(dir, "solo.bin"), SIZE, 11);
    const soloSum = await sha256File(path.join(dir, "solo.bin"));
    const solo = mktorrent({ source: path.join(dir, "solo.bin"), out: path.join(tmp, "solo.torrent"), trackers: [tracker.announceUrl] });
    const soloHash = fromHex(infoHashHex(solo))!;
    const tr = await startTransmissionCli({ torrent: solo, dir, configDir: path.join(tmp, "transmission-config") });
    const deadline = Date.now() + 60_000;
    while ((await udp.scrape([soloHash])).entries[0]!.seeders < 1) {
      if (Date.now() > deadline) throw new Error(`Transmission never announced as a seeder (safety deadline)\n${tr.service.output().slice(-2000)}`);
      await Bun.sleep(200);
    }
    const leecher = await startLtPeer({
      mode: "download",
      torrent: solo,
      dir: path.join(tmp, "lt-from-transmission"),
      trackerOnly: true,
      timeoutS: 90,
      name: "lt leecher of transmission",
    });
    await leecher.finished();
    expect(await sha256File(path.join(tmp, "lt-from-transmission", "solo.bin"))).toBe(soloSum);
    await tr.stop();
  }, 150_000);
});
