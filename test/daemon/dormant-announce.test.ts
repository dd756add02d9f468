// Dormant torrents that name a tracker (peer/client/dormant-announces.ts): a seeding torrent of the daemon
// goes dormant once its `started` is answered, and the client keeps announcing it at the tracker's
// interval (no event, left=0) from its small record; the trackers' status shows through the API while it
// is dormant. A real libtorrent leecher that finds the dormant seeder through the tracker downloads
// verified data, the seeder announcing no second `started`; removed, it announces `stopped`.
// The tracker is ours (edge/), in this process, on loopback, with a 5 s interval.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { setupTracker } from "../../edge/server-setup.ts";
import type { DaemonEvent } from "../../peer/daemon/control.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { makeTorrent } from "../support/seed-fixture.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { generatePeerId, percentEncodeBytes } from "../../shared/ids.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { freePort } from "../support/ports.ts";
import { torrentTrackers } from "../../peer/daemon/qbt/fields.ts";
import { addUntilDormant, openDaemon } from "./dormant-fixture.ts";

const DEAD_TRACKER = `http://127.0.0.1:${freePort()}/announce`;
const FILES = { "one.bin": 300_000, "disc/two.bin": 200_000 };
let dir = "";
let source = "";
let torrentPath = "";
let hex = "";
/** The same files as another torrent (other pieces), for the second test. */
let otherPath = "";
let otherHash: Uint8Array;
let server: ReturnType<typeof Bun.serve>;
/** Every announce the tracker got, as its query. */
const announces: URLSearchParams[] = [];

beforeAll(async () => {
  // Our tracker with a 5 s interval (the least btpeer waits), every client on 127.0.0.1.
  const setup = setupTracker({ TRACKER_INTERVAL: "5", TRACKER_INTERVAL_SPREAD: "0" }, { clientIp: () => "127.0.0.1", withoutUpstash: "memory" });
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/announce") announces.push(url.searchParams);
      return setup.app.fetch(request);
    },
  });
  dir = makeTempDir("btpeer-dormant-announce-");
  source = path.join(dir, "seed", "album");
  let seed = 20;
  for (const [name, size] of Object.entries(FILES)) makeRandomFile(path.join(source, name), size, seed++);
  torrentPath = await makeTorrent(source, path.join(dir, "album.torrent"), { pieceLength: 32 * 1024, trackers: [`http://127.0.0.1:${server.port}/announce`] });
  const bytes = fs.readFileSync(torrentPath);
  hex = Buffer.from(parseMetainfo(new Uint8Array(bytes)).infoHash).toString("hex");
  // Its first tier is a tracker nobody listens at: each announce falls through to ours (BEP 12).
  otherPath = await makeTorrent(source, path.join(dir, "other.torrent"), {
    pieceLength: 16 * 1024,
    trackers: [DEAD_TRACKER, `http://127.0.0.1:${server.port}/announce`],
  });
  otherHash = parseMetainfo(new Uint8Array(fs.readFileSync(otherPath))).infoHash;
});

afterAll(async () => {
  await stopAllServices();
  server?.stop(true);
  if (dir) removeDir(dir);
}, 30_000);

/** The announces of the daemon (by the port it listens on). */
function fromDaemon(port: number): URLSearchParams[] {
  return announces.filter((q) => q.get("port") === String(port));
}

describe.skipIf(!needs(PROGRAMS.libtorrent))("a dormant torrent with a tracker", () => {
  test("goes dormant and keeps announcing at the tracker's interval; a libtorrent leecher finds it through the tracker and gets verified data; removed, it announces stopped", async () => {
    const daemon = openDaemon(path.join(dir, "state"), dir);
    const said: DaemonEvent[] = [];
    daemon.subscribe((e) => said.push(e));
    try {
      await daemon.add({ source: { torrent: new Uint8Array(fs.readFileSync(torrentPath)) }, savePath: path.dirname(source) });
      await until(() => daemon.dormant(hex), "the seeded torrent going dormant", { tries: 600, everyMs: 50 });
      const port = daemon.port;
      expect(fromDaemon(port).map((q) => q.get("event"))).toEqual(["started"]);
      const trackerEvents = () => said.filter((e) => e.event === "tracker");
      expect(trackerEvents()).toHaveLength(1);

      // Two more announces while dormant, 5 s apart, with no event: the client's scheduler sends them.
      await until(() => fromDaemon(port).length >= 3, "two announces while dormant", { tries: 600, everyMs: 100 }); // 10 s of intervals
      // The tracker counts an announce before the daemon has read its answer: its `tracker` event says it has.
      await until(() => trackerEvents().length >= 3, "the dormant announces' tracker events", { tries: 300, everyMs: 100 });
      expect(daemon.dormant(hex)).toBe(true);
      const periodic = fromDaemon(port).slice(1);
      for (const q of periodic) {
        expect(q.get("event")).toBeNull();
        expect(q.get("left")).toBe("0");
        expect(q.get("uploaded")).toBe("0");
      }
      // Its trackers as the API shows them, read from the dormant record.
      const detail = daemon.get(hex);
      expect(detail.trackers).toEqual([
        expect.objectContaining({ url: `http://127.0.0.1:${server.port}/announce`, tier: 0, status: "working", lastError: null }),
      ]);
      expect(detail.trackers[0]!.nextAnnounceAt).toBeGreaterThan(Date.now() - 2_000);
      expect(daemon.list()[0]).toMatchObject({ currentTracker: `http://127.0.0.1:${server.port}/announce`, trackerErrors: 0 });
      // Each announce while dormant is said as a running torrent says it.
      expect(trackerEvents()[2]).toEqual({ infoHash: hex, event: "tracker", tracker: `http://127.0.0.1:${server.port}/announce`, peers: 0 });
      expect(daemon.dormant(hex)).toBe(true);

      // A real libtorrent leecher that knows of the seeder only through the tracker.
      const out = path.join(dir, "out-lt");
      fs.mkdirSync(out, { recursive: true });
      const lt = await startLtPeer({ mode: "download", torrent: torrentPath, dir: out, trackerOnly: true, name: "libtorrent leecher" });
      await lt.finished();
      for (const name of Object.keys(FILES)) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(source, name)));
      await lt.stop();

      // Dormant again; its announcing went on without a second `started`, and reports what it sent.
      await until(() => daemon.dormant(hex), "dormant again after serving", { tries: 600, everyMs: 50 });
      const before = fromDaemon(port).length;
      await until(() => fromDaemon(port).length > before, "an announce after serving", { tries: 300, everyMs: 100 });
      const events = fromDaemon(port).map((q) => q.get("event"));
      expect(events.filter((e) => e === "started")).toHaveLength(1);
      expect(events.filter((e) => e !== null && e !== "started")).toEqual([]);
      expect(Number(fromDaemon(port).at(-1)!.get("uploaded"))).toBeGreaterThanOrEqual(500_000);

      // Removed while dormant: `stopped` goes out.
      await until(() => daemon.dormant(hex), "dormant before removal", { tries: 600, everyMs: 50 });
      await daemon.remove(hex, false);
      expect(fromDaemon(port).at(-1)!.get("event")).toBe("stopped");
    } finally {
      await daemon.close();
    }
  }, 150_000);

  test("an announce while dormant that names a leecher wakes the seeder, which dials it; the daemon stopping announces stopped", async () => {
    const otherHex = Buffer.from(otherHash).toString("hex");
    const daemon = openDaemon(path.join(dir, "state-other"), dir);
    const said: DaemonEvent[] = [];
    daemon.subscribe((e) => said.push(e));
    let closed = false;
    try {
      await daemon.add({ source: { torrent: new Uint8Array(fs.readFileSync(otherPath)) }, savePath: path.dirname(source) });
      await until(() => daemon.dormant(otherHex), "the seeded torrent going dormant", { tries: 600, everyMs: 50 });
      const port = daemon.port;
      // After an announce while dormant, qBittorrent's `torrents/trackers` shows each tier's outcome.
      await until(() => fromDaemon(port).length >= 2, "an announce while dormant", { tries: 300, everyMs: 100 });
      // The tracker counts the announce before the daemon has read its answer (tier 1 still "updating" then):
      // wait for its `tracker` event (the first is the running torrent's `started`), which says it was read.
      await until(() => said.filter((e) => e.event === "tracker").length >= 2, "the dormant announce's tracker event", { tries: 300, everyMs: 100 });
      expect(daemon.dormant(otherHex)).toBe(true);
      const rows = torrentTrackers(daemon.get(otherHex)).filter((r) => r.tier !== -1);
      expect(rows).toEqual([
        expect.objectContaining({ url: DEAD_TRACKER, tier: 0, status: 4, msg: expect.stringMatching(/.+/) }),
        expect.objectContaining({ url: `http://127.0.0.1:${server.port}/announce`, tier: 1, status: 2, msg: "" }),
      ]);
      // Each tier is announced to on its own (the default): the dead tier's failures are counted.
      const summary = daemon.list().find((t) => t.infoHash === otherHex)!;
      expect(summary.currentTracker).toBe(`http://127.0.0.1:${server.port}/announce`);
      expect(summary.trackerErrors).toBeGreaterThan(0);
      // A libtorrent leecher that dials no one and asks no tracker: only the seeder's dial can reach it.
      const out = path.join(dir, "out-dialled");
      fs.mkdirSync(out, { recursive: true });
      const lt = await startLtPeer({ mode: "download", torrent: otherPath, dir: out, noTrackers: true, name: "libtorrent leecher (listening)" });
      // The tracker hears of it as a leecher (we announce for it), and tells the seeder's next announce.
      const query =
        `info_hash=${percentEncodeBytes(otherHash)}&peer_id=${percentEncodeBytes(generatePeerId())}` +
        `&port=${lt.port}&uploaded=0&downloaded=0&left=500000&compact=1&event=started`;
      const reply = await fetch(`http://127.0.0.1:${server.port}/announce?${query}`);
      expect(reply.status).toBe(200);
      await reply.arrayBuffer();
      await lt.finished();
      for (const name of Object.keys(FILES)) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(source, name)));
      await lt.stop();
      expect(fromDaemon(port).filter((q) => q.get("event") === "started")).toHaveLength(1);

      await until(() => daemon.dormant(otherHex), "dormant again after serving", { tries: 600, everyMs: 50 });
      await daemon.close();
      closed = true;
      expect(fromDaemon(port).at(-1)!.get("event")).toBe("stopped");
    } finally {
      if (!closed) await daemon.close();
    }
  }, 150_000);

  test("an announce while dormant that fails is said as a warning, and the API shows the tracker's error", async () => {
    const deadOnly = await makeTorrent(source, path.join(dir, "dead-only.torrent"), { pieceLength: 64 * 1024, trackers: [DEAD_TRACKER] });
    const bytes = new Uint8Array(fs.readFileSync(deadOnly));
    const deadHex = Buffer.from(parseMetainfo(bytes).infoHash).toString("hex");
    const daemon = openDaemon(path.join(dir, "state-dead"), dir);
    const warnings: DaemonEvent[] = [];
    daemon.subscribe((e) => {
      if (e.event === "warning") warnings.push(e);
    });
    try {
      await daemon.add({ source: { torrent: bytes }, savePath: path.dirname(source) });
      // Its first announce (the running torrent's) fails; a seeder waits for peers all the same.
      await until(() => daemon.dormant(deadHex) && warnings.length === 1, "dormant after a failed announce", { tries: 600, everyMs: 50 });
      // The next one is the client's, for the dormant torrent.
      await until(() => warnings.length >= 2, "a failed announce while dormant", { tries: 300, everyMs: 100 });
      expect(daemon.dormant(deadHex)).toBe(true);
      expect(warnings[1]).toEqual({ infoHash: deadHex, event: "warning", message: expect.stringMatching(/; retrying in \d+ s$/) });
      expect(daemon.get(deadHex).trackers).toEqual([expect.objectContaining({ url: DEAD_TRACKER, status: "error", lastError: expect.stringMatching(/.+/) })]);
      expect(daemon.list()[0]!.trackerErrors).toBeGreaterThanOrEqual(2);
    } finally {
      await daemon.close();
    }
  }, 120_000);

  test("after a restart the stored torrent starts dormant and the client announces its started, once", async () => {
    const stateDir = path.join(dir, "state-restart");
    const open = () => openDaemon(stateDir, dir);
    let daemon = open();
    try {
      await addUntilDormant(daemon, torrentPath, path.dirname(source));
      await daemon.close();
      daemon = open();
      await daemon.loaded;
      expect(daemon.dormant(hex)).toBe(true); // no Torrent was made for it
      const port = daemon.port;
      await until(() => fromDaemon(port).length >= 2, "started and an announce after it", { tries: 300, everyMs: 100 });
      expect(fromDaemon(port).map((q) => q.get("event"))).toEqual(["started", null]);
      expect(daemon.dormant(hex)).toBe(true);
    } finally {
      await daemon.close();
    }
  }, 120_000);
});
