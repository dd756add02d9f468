// `btpeer daemon` across restarts, with real processes: the daemon (dist/btpeer), a btpeer seeder capped
// with --upload-limit so that a SIGKILL lands mid-download, a relay between them that reads every
// `request` and `have` on the wire, and our tracker. After the SIGKILL the daemon starts again from its
// state dir and completes; no piece it had announced (`have`) before the kill is requested again; the
// file that did not change since the last save is not hashed again (the `started` event's `checked`).
// SIGTERM exits 0 after announcing `stopped`; a start after that hashes nothing at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { startBtRelay, type BtRelay } from "../support/bt-relay.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { scrapeUntil } from "../support/scrape.ts";
import { makeTorrent, startBtpeer, startTracker, type Tracker } from "./btpeer-harness.ts";
import { startDaemon, torrentEvent, type DaemonEvent, type DaemonProcess } from "./daemon-harness.ts";

const PIECE = 64 * 1024;
// a.bin is whole pieces (no piece shared with b.bin), and is on disk before the daemon first sees it.
const SIZES = { "a.bin": 8 * PIECE, "b.bin": 24 * PIECE + 5000, "c.bin": 20 * PIECE + 777 };
const A_PIECES = 8;

let dir = "";
let tracker: Tracker;
let relay: BtRelay | null = null;
let meta: Metainfo;
let hex = "";
let torrent = "";
let seedTorrent = "";
let seedMeta: Metainfo;
const src = () => path.join(dir, "src");
const dl = () => path.join(dir, "downloads");

beforeAll(async () => {
  dir = makeTempDir("btpeer-daemon-resume-");
  tracker = await startTracker();
  const folder = path.join(src(), "set");
  fs.mkdirSync(folder, { recursive: true });
  let seed = 90;
  for (const [name, size] of Object.entries(SIZES)) makeRandomFile(path.join(folder, name), size, seed++);
  // No tracker: the daemon cannot find the seeder itself, so every byte comes through the relay.
  torrent = await makeTorrent(folder, path.join(dir, "set.torrent"), { pieceLength: PIECE });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  hex = Buffer.from(meta.infoHash).toString("hex");
  // A small complete torrent with our tracker, to see the daemon announce `started` and `stopped`.
  makeRandomFile(path.join(dl(), "announced.bin"), 3 * PIECE + 10, 7);
  seedTorrent = await makeTorrent(path.join(dl(), "announced.bin"), path.join(dir, "announced.torrent"), { pieceLength: PIECE, trackers: [tracker.announce] });
  seedMeta = parseMetainfo(new Uint8Array(fs.readFileSync(seedTorrent)));
  fs.mkdirSync(path.join(dl(), "set"), { recursive: true });
  fs.copyFileSync(path.join(folder, "a.bin"), path.join(dl(), "set", "a.bin"));
}, 60_000);

afterAll(async () => {
  relay?.stop();
  await stopAllServices();
  removeDir(dir);
}, 60_000);

function daemonAt(port: number, name: string): Promise<DaemonProcess> {
  return startDaemon({ stateDir: path.join(dir, "state"), downloadDir: dl(), watchDir: path.join(dir, "watch"), port, name });
}

describe("btpeer daemon: restarts", () => {
  test("SIGKILL mid-download: the restart completes, re-requests no piece announced before the kill, and leaves the unchanged file unhashed", async () => {
    const port = freePort();
    const first = await daemonAt(port, "daemon (killed)");
    first.drop(torrent);
    const started = await first.waitFor(torrentEvent("started", hex));
    // a.bin was on disk already and never seen: hashed at the first start, found whole.
    expect(started).toMatchObject({ have: A_PIECES });

    relay = await startBtRelay(port);
    // Plain BitTorrent, so that the relay can read the requests and haves.
    const seeder = await startBtpeer(
      ["seed", torrent, "--dir", src(), "--upload-limit", "256K", "--encryption", "disable", "--peer", `127.0.0.1:${relay.port}`],
      {
        name: "capped seeder",
      },
    );
    // Midway: a good part fetched, and more than one resume flush (every second) behind us.
    await first.waitFor((e) => torrentEvent("progress", hex)(e) && (e.have as number) >= A_PIECES + 16, 120_000);
    expect(relay.fromTarget.unreadable).toBe(false);
    await first.kill();
    const announced = new Set(relay.fromTarget.haves);
    const requestsBefore = relay.fromTarget.requests.length;
    expect(announced.size).toBeGreaterThanOrEqual(16);
    expect(announced.size).toBeLessThan(meta.pieceCount - A_PIECES);

    const second = await daemonAt(port, "daemon (restarted)");
    const again = await second.waitFor(torrentEvent("started", hex));
    // Every announced piece is found again (trusted, or hashed since its file changed after the last save).
    expect(again.have as number).toBeGreaterThanOrEqual(A_PIECES + announced.size);
    // a.bin did not change since it was stamped: its pieces were not hashed again.
    expect(again.checked as number).toBeLessThanOrEqual(meta.pieceCount - A_PIECES);
    await second.waitFor(torrentEvent("completed", hex), 180_000);
    const after = relay.fromTarget.requests.slice(requestsBefore);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((index) => announced.has(index))).toEqual([]);
    expect(relay.fromTarget.requests.filter((index) => index < A_PIECES)).toEqual([]);
    for (const name of Object.keys(SIZES)) expect(await sha256File(path.join(dl(), "set", name))).toBe(await sha256File(path.join(src(), "set", name)));

    // SIGTERM: every torrent announces `stopped`, the state is saved, exit 0. Both seed with nothing to
    // do, so they may be dormant by now (the DHT keeps none awake): a dormant torrent says no `stopped`
    // event of its own, the client announces its `stopped` to its trackers.
    const seedHex = Buffer.from(seedMeta.infoHash).toString("hex");
    second.drop(seedTorrent);
    await second.waitFor(torrentEvent("tracker", seedHex));
    expect((await scrapeUntil(tracker.announce, seedMeta.infoHash, (c) => c.complete === 1)).complete).toBe(1);
    expect(await second.stop()).toBe(0);
    const stoppedEvents = second.events().filter((e: DaemonEvent) => e.event === "stopped");
    expect(stoppedEvents.filter((e) => e.infoHash !== hex && e.infoHash !== seedHex)).toEqual([]);
    expect(second.events().at(-1)?.event).toBe("daemon-stopped");
    expect((await scrapeUntil(tracker.announce, seedMeta.infoHash, (c) => c.complete === 0)).complete).toBe(0);

    // After a clean stop nothing is hashed at start: every file is as it was saved.
    const third = await daemonAt(port, "daemon (after SIGTERM)");
    const clean = await third.waitFor(torrentEvent("started", hex));
    expect(clean).toMatchObject({ checked: 0, have: meta.pieceCount });
    expect(await third.waitFor(torrentEvent("started", seedHex))).toMatchObject({ checked: 0, have: seedMeta.pieceCount });
    expect(await third.stop()).toBe(0);
    await seeder.stop();
  }, 400_000);
});
