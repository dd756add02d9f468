// A dormant torrent announced over a UDP tracker (BEP 15): the torrent names only opentracker's udp://
// address. The daemon's seeding torrent goes dormant; restarted at another port it starts dormant, and the
// client's announce for it (its `started`, over UDP) is what tells the tracker the new port: the API and
// the events show it, and a real btpeer leecher that knows only the tracker (no DHT, no --peer) finds
// the dormant seeder there, downloads verified data and so wakes it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { DaemonEvent } from "../../peer/daemon/control.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startOpentracker, type Opentracker } from "../support/opentracker.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { until } from "../support/until.ts";
import { makeTorrent, startBtpeer } from "../peer/btpeer-harness.ts";
import { addUntilDormant, openDaemon } from "./dormant-fixture.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";

const FILES = { "one.bin": 300_000, "disc/two.bin": 200_000 };
const DORMANT = { tries: 600, everyMs: 50 };
let dir = "";
let source = "";
let torrentPath = "";
let hex = "";
let udpUrl = "";
let ot: Opentracker | undefined;

describe.skipIf(!needs(PROGRAMS.opentracker))("a dormant torrent with a UDP tracker", () => {
  beforeAll(async () => {
    dir = makeTempDir("btpeer-dormant-udp-");
    source = path.join(dir, "seed", "album");
    let seed = 60;
    for (const [name, size] of Object.entries(FILES)) makeRandomFile(path.join(source, name), size, seed++);
    const port = freePort();
    udpUrl = `udp://127.0.0.1:${port}/announce`;
    torrentPath = await makeTorrent(source, path.join(dir, "album.torrent"), { pieceLength: 32 * 1024, trackers: [udpUrl] });
    hex = Buffer.from(parseMetainfo(new Uint8Array(fs.readFileSync(torrentPath))).infoHash).toString("hex");
    ot = await startOpentracker({ infoHashes: [hex], dir: path.join(dir, "opentracker"), port, udpPort: port });
  }, 60_000);

  afterAll(async () => {
    await ot?.stop();
    await stopAllServices();
    if (dir) removeDir(dir);
  }, 30_000);

  test("restarted at another port it starts dormant, the client announces it over UDP, and a leecher that knows only the tracker finds it and wakes it", async () => {
    const stateDir = path.join(dir, "state");
    const open = () => openDaemon(stateDir, dir);
    let daemon = open();
    try {
      await addUntilDormant(daemon, torrentPath, path.dirname(source));
      const firstPort = daemon.port;
      await daemon.close();

      daemon = open();
      const events: DaemonEvent[] = [];
      daemon.subscribe((e) => events.push(e));
      await daemon.loaded;
      expect(daemon.port).not.toBe(firstPort);
      expect(daemon.dormant(hex)).toBe(true); // no Torrent made for it
      await until(() => events.some((e) => e.event === "tracker"), "the client's announce over UDP", DORMANT);
      expect(daemon.dormant(hex)).toBe(true);
      expect(events.filter((e) => e.event === "tracker")).toEqual([{ infoHash: hex, event: "tracker", tracker: udpUrl, peers: expect.any(Number) }]);
      expect(daemon.get(hex).trackers).toEqual([expect.objectContaining({ url: udpUrl, tier: 0, status: "working", lastError: null })]);

      // The tracker names the old port (nobody there) and the new one, which only the dormant announce told it.
      const out = path.join(dir, "out");
      const leecher = await startBtpeer(["download", torrentPath, "--out", out, "--no-seed", "--no-dht"], { name: "UDP tracker leecher" });
      await leecher.waitFor((e) => e.event === "completed");
      await leecher.stop();
      for (const name of Object.keys(FILES)) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(source, name)));
      expect(daemon.list()[0]!.uploaded).toBeGreaterThanOrEqual(500_000);
      expect(events.filter((e) => e.event === "started")).toHaveLength(1); // the dormant start's; waking says none
      await until(() => daemon.dormant(hex), "dormant again after serving", DORMANT);
    } finally {
      await daemon.close();
    }
  }, 120_000);
});
