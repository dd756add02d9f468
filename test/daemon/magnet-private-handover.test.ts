// A PRIVATE .torrent handed to a magnet link still fetching its metadata, in the daemon with its real parts in
// this process. A private torrent's peers come from its own trackers alone (BEP 27): the torrent goes on with
// the .torrent's tracker only, and the link's tracker, which the fetch announced `started` to, is told
// `stopped` and never announced to again (not by the torrent's announces, a reannounce, its `completed` nor
// its stop); and no peer the fetch had (connected, or an address it knew) is kept or dialled by the torrent.
// Two recording trackers on loopback, each its own swarm: A, the link's, and B, the .torrent's, where a real
// btpeer process seeds it. In A's swarm, and in the link's `x.pe`, is another real btpeer, itself fetching
// the metadata (it has none, so the metadata can only come from the .torrent): the fetch connects to it,
// the torrent must not. Cases: the fetch's `started` answered, still under way (A holds its reply), and the
// .torrent added at once after the link, the `started` perhaps not yet at A, the dial perhaps not yet made.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { formatMagnet } from "../../shared/magnet.ts";
import { torrentFileFromInfo } from "../../shared/metainfo/from-info.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { DaemonError, type DaemonEvent } from "../../peer/daemon/control.ts";
import { makeTempDir, removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { type RecordingTracker, startRecordingTracker } from "../support/recording-tracker.ts";
import { until } from "../support/until.ts";
import { openDaemon } from "./dormant-fixture.ts";
import { linkOnlyPeer, type SeededFile, seedOneFile } from "./magnet-handover-fixture.ts";

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
  "a private .torrent handed to a magnet link (%s): only its tracker is announced to and its peers dialled, the link's tracker is told `stopped` and left, the link's peers dropped",
  async (name) => {
    const { infoHash, hex, meta, source } = seeded;
    expect(meta.private).toBe(true);
    const a = `a-${name}`;
    const b = `b-${name}`;
    const events = (tracker: RecordingTracker, at: string) => tracker.to(at, hex).map((x) => x.event);
    const state = path.join(dir, `state-${name}`);
    const down = path.join(dir, `down-${name}`);
    // Known to the link twice over (A's swarm, x.pe), not to B.
    const other = await linkOnlyPeer(path.join(dir, `other-${name}`), infoHash, trackerA.url(`c-${name}`));
    const daemon = openDaemon(state, down);
    const log: DaemonEvent[] = [];
    daemon.subscribe((e) => void (e.infoHash === hex && log.push(e)));
    const connectedTo = (address: string, after: number) => log.slice(after).filter((e) => e.event === "peer-connected" && e.peer === address);
    // Every peer the daemon lists for the torrent while the test waits on it.
    const listed = new Set<string>();
    const watching = (what: () => boolean) => () => {
      for (const p of daemon.get(hex).peerList) listed.add(p.address);
      return what();
    };
    if (name === "held") trackerA.hold(a);
    try {
      await daemon.add({ source: { magnet: formatMagnet({ infoHash, trackers: [trackerA.url(a)], peers: [other.address] }) } });
      const fetchStatus = () => daemon.get(hex).trackers[0]?.status;
      if (name === "answered") await until(() => fetchStatus() === "working", "the fetch's `started` answered by A", wait);
      if (name === "held") {
        await until(() => events(trackerA, a).length > 0, "the fetch's `started` at A", wait);
        expect(fetchStatus()).toBe("updating");
      }
      // The fetch has the other peer connected (it has no metadata to give), unless the .torrent comes at once.
      if (name !== "at-once") await until(() => connectedTo(other.address, 0).length > 0, "the fetch connected to the link's peer", wait);
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
      await until(
        watching(() => events(trackerA, a).at(-1) === "stopped"),
        "`stopped` at A",
        wait,
      );
      trackerA.release(a);
      // The torrent announces to B, downloads from the seeder there, and says `completed`.
      await until(
        watching(() => events(trackerB, b).includes("completed")),
        "`completed` at B",
        wait,
      );
      expect(events(trackerB, b).slice(0, 2)).toEqual(["started", "completed"]);
      const seen = events(trackerB, b).length;
      await daemon.reannounce(hex);
      await until(
        watching(() => events(trackerB, b).length > seen),
        "the reannounce at B",
        wait,
      );
      expect(daemon.get(hex).trackers.map((t) => t.url)).toEqual([trackerB.url(b)]);
      const progress = daemon.get(hex);
      expect(progress.progress).toBe(1);
      expect(progress.hashFailures).toBe(0);
      expect(Buffer.compare(fs.readFileSync(path.join(down, "one.bin")), fs.readFileSync(source))).toBe(0);
      // The peers the torrent had came from B: the seeder there was connected (it made its first event,
      // its check), the link's peer never was, nor listed, and it never got the metadata from us.
      const torrentFrom = log.findIndex((e) => e.event === "checking");
      expect(torrentFrom).toBeGreaterThan(-1);
      expect(connectedTo(seeded.seeder.address, torrentFrom).length).toBeGreaterThan(0);
      expect(connectedTo(other.address, torrentFrom)).toEqual([]);
      watching(() => true)();
      expect([...listed]).not.toContain(other.address);
      expect(other.events().filter((e) => e.event === "metadata" && e.done === true)).toEqual([]);
    } finally {
      trackerA.release(a);
      await daemon.close();
      await other.stop();
    }
    // The stop tells B, not A again: A heard the fetch's `started` (unless it never went out) and our `stopped`.
    expect(events(trackerB, b).at(-1)).toBe("stopped");
    const atA = events(trackerA, a);
    if (name === "at-once") expect([["stopped"], ["started", "stopped"]]).toContainEqual(atA);
    else expect(atA).toEqual(["started", "stopped"]);
  },
  120_000,
);

// The other side: a .torrent that is not private takes the fetch's peers over, the connection to the link's
// peer with them (not dialled again), over which that peer gets the metadata from us.
test("a public .torrent handed to a magnet link: the torrent keeps the fetch's connection to the link's peer", async () => {
  const pub = await seedOneFile(path.join(dir, "public"), { trackers: [trackerB.url("s")] });
  await pub.seeder.waitFor((e) => e.event === "tracker");
  expect(pub.meta.private).toBe(false);
  const other = await linkOnlyPeer(path.join(dir, "other-public"), pub.infoHash, trackerA.url("c-public"));
  const daemon = openDaemon(path.join(dir, "state-public"), path.join(dir, "down-public"));
  const log: DaemonEvent[] = [];
  daemon.subscribe((e) => void (e.infoHash === pub.hex && log.push(e)));
  const connectedTo = (address: string, after: number) => log.slice(after).filter((e) => e.event === "peer-connected" && e.peer === address);
  try {
    await daemon.add({ source: { magnet: formatMagnet({ infoHash: pub.infoHash, trackers: [trackerA.url("a-public")], peers: [other.address] }) } });
    await until(() => connectedTo(other.address, 0).length > 0, "the fetch connected to the link's peer", wait);
    const supplied = torrentFileFromInfo(pub.meta.infoBytes, [[trackerB.url("b-public")]]);
    await expect(daemon.add({ source: { torrent: supplied } })).rejects.toBeInstanceOf(DaemonError);
    await until(() => daemon.get(pub.hex).progress === 1, "the download complete", wait);
    await other.waitFor((e) => e.event === "metadata" && e.done === true);
    const torrentFrom = log.findIndex((e) => e.event === "checking");
    expect(torrentFrom).toBeGreaterThan(-1);
    expect(connectedTo(other.address, torrentFrom)).toEqual([]); // the same connection, not a new one
    expect(daemon.get(pub.hex).trackers.map((t) => t.url)).toEqual([trackerA.url("a-public"), trackerB.url("b-public")]);
  } finally {
    await daemon.close();
    await other.stop();
  }
}, 120_000);
