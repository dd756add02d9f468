// A PRIVATE .torrent handed to a magnet link still fetching its metadata, in the daemon with its real parts in
// this process. A private torrent's trackers are its own alone (BEP 27): the torrent goes on with the
// .torrent's tracker only, and the link's tracker, which the fetch announced `started` to, is told `stopped`
// and never announced to again (not by the torrent's announces, a reannounce, its `completed` nor its
// stop). Two recording trackers on loopback, each its own swarm: A, the link's, where nobody is (the fetch
// finds no peer, so the metadata can only come from the .torrent), and B, the .torrent's, where a real
// btpeer process seeds it. Cases: the fetch's `started` answered, still under way (A holds its reply), and
// the .torrent added at once after the link, the `started` perhaps not yet at A.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { formatMagnet } from "../../shared/magnet.ts";
import { torrentFileFromInfo } from "../../shared/metainfo/from-info.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { DaemonError } from "../../peer/daemon/control.ts";
import { makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { until } from "../support/until.ts";
import { openDaemon } from "./dormant-fixture.ts";
import { type SeededFile, seedOneFile } from "./magnet-handover-fixture.ts";

let dir = "";
let trackerA: RecordingTracker;
let trackerB: RecordingTracker;
let seeded: SeededFile;

beforeAll(async () => {
  dir = makeTempDir("btpeer-magnet-private-handover-");
  trackerA = startRecordingTracker();
  trackerB = startRecordingTracker();
  seeded = await seedOneFile(dir, { trackers: [trackerB.url("s")], private: true });
  // The seeder is in B's swarm before any torrent asks B for peers (its interval is an hour).
  await seeded.seeder.waitFor((e) => e.event === "tracker");
}, 90_000);

afterAll(async () => {
  await stopAllServices();
  trackerA?.stop();
  trackerB?.stop();
  removeDir(dir);
}, 30_000);

const wait = { tries: 1200, everyMs: 50 };

// answered: the fetch's `started` answered by A; held: under way (A holds its reply); at-once: the .torrent
// added right after the link, its `started` perhaps not yet sent.
test.each(["answered", "held", "at-once"] as const)(
  "a private .torrent handed to a magnet link (%s): only its tracker is announced to, the link's is told `stopped` and left",
  async (name) => {
    const { infoHash, hex, meta, source } = seeded;
    expect(meta.private).toBe(true);
    const a = `a-${name}`;
    const b = `b-${name}`;
    const events = (tracker: RecordingTracker, at: string) => tracker.to(at, hex).map((x) => x.event);
    const state = path.join(dir, `state-${name}`);
    const down = path.join(dir, `down-${name}`);
    const daemon = openDaemon(state, down);
    if (name === "held") trackerA.hold(a);
    try {
      await daemon.add({ source: { magnet: formatMagnet({ infoHash, trackers: [trackerA.url(a)], peers: [] }) } });
      const fetchStatus = () => daemon.get(hex).trackers[0]?.status;
      if (name === "answered") await until(() => fetchStatus() === "working", "the fetch's `started` answered by A", wait);
      if (name === "held") {
        await until(() => events(trackerA, a).length > 0, "the fetch's `started` at A", wait);
        expect(fetchStatus()).toBe("updating");
      }
      expect(daemon.get(hex).state).toBe("metadata");

      // The same info dictionary, announcing to B only: the duplicate add hands its metadata over.
      const supplied = torrentFileFromInfo(meta.infoBytes, [[trackerB.url(b)]]);
      const refused = await daemon.add({ source: { torrent: supplied } }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(DaemonError);
      expect((refused as DaemonError).code).toBe("duplicate");
      const detail = daemon.get(hex);
      expect(detail.state).not.toBe("metadata");
      expect(detail.isPrivate).toBe(true);
      expect(detail.trackers.map((t) => t.url)).toEqual([trackerB.url(b)]);
      expect(parseMetainfo(daemon.store.getTorrent(infoHash)!.metainfo).announceList).toEqual([[trackerB.url(b)]]);

      // A, announced to by the fetch (or about to be), hears that we left it.
      await until(() => events(trackerA, a).at(-1) === "stopped", "`stopped` at A", wait);
      trackerA.release(a);
      // The torrent announces to B, downloads from the seeder there, and says `completed`.
      await until(() => events(trackerB, b).includes("completed"), "`completed` at B", wait);
      expect(events(trackerB, b).slice(0, 2)).toEqual(["started", "completed"]);
      const seen = events(trackerB, b).length;
      await daemon.reannounce(hex);
      await until(() => events(trackerB, b).length > seen, "the reannounce at B", wait);
      expect(daemon.get(hex).trackers.map((t) => t.url)).toEqual([trackerB.url(b)]);
      const progress = daemon.get(hex);
      expect(progress.progress).toBe(1);
      expect(progress.hashFailures).toBe(0);
      expect(Buffer.compare(fs.readFileSync(path.join(down, "one.bin")), fs.readFileSync(source))).toBe(0);
    } finally {
      trackerA.release(a);
      await daemon.close();
    }
    // The stop tells B, not A again: A heard the fetch's `started` (unless it never went out) and our `stopped`.
    expect(events(trackerB, b).at(-1)).toBe("stopped");
    const atA = events(trackerA, a);
    if (name === "at-once") expect([["stopped"], ["started", "stopped"]]).toContainEqual(atA);
    else expect(atA).toEqual(["started", "stopped"]);
  },
  120_000,
);
