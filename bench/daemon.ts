// npm run bench:daemon — what running torrents in the daemon costs, with the compiled binary (dist/btpeer).
//
//  1. leech: one torrent (--size, default 1 GiB) fetched by `btpeer daemon` and by `btpeer download` in the
//     same run, from a btpeer seeder: download dials it (--peer), the seeder dials the daemon (which has no
//     --peer). Time from when both ends are up (the later `started`: the seeder's data is checked first)
//     to the leecher's `completed`, medians of four each; the daemon should keep at least 0.95 of download's rate.
//  2. many: --count small seeded torrents (default 10,000; one 16 KiB file each) in one daemon's state,
//     as a clean stop leaves it (resume data for every torrent). Start-up time until every torrent is
//     seeding, from that state and again after a SIGKILL; RSS (VmRSS once started, and the peak VmHWM)
//     against an empty daemon's, per torrent; open file descriptors; CPU per second while idle; the time
//     GET /api/v1/torrents takes for all of them (p50/p99), and DaemonControl.list() in this process.
//
//  3. side: --side-count small torrents (default 10,000, issue 15's count) added through each one's own API
//     to btpeer daemon, qbittorrent-nox and transmission-daemon (Debian packages), each seeding from data
//     on disk: peak RSS (and RssAnon, RssFile), start-up to all seeding after a clean restart, and a full
//     list (sync/maindata for qBittorrent and btpeer, torrent-get for Transmission). Transmission gets the
//     first --transmission-count of them (default 2,000): it checks every torrent it is given, in about
//     0.1 s however small (its checker sleeps 100 ms when it begins a torrent, and each second after),
//     and its RPC has no way to skip that: 10,000 would add 17 minutes. qBittorrent is told to trust the
//     data (skip_checking): it checks one small torrent a second. btpeer checks what it is given.
//     --side-daemons picks some of btpeer,qbittorrent,transmission. Peak RSS is VmHWM (what the target
//     ratio uses: the issue names peak RSS), RssAnon and RssFile are the largest seen (every 200 ms).
//     --side-tracker gives every small torrent our tracker (edge/, its own process on loopback, memory
//     store, --side-tracker-interval seconds between announces, default 1800) for every daemon alike.
//
//   bun bench/daemon.ts [--only leech,many,side] [--size 1G] [--count 10000] [--side-count 10000]
//     [--transmission-count 2000] [--side-daemons btpeer,qbittorrent,transmission] [--side-tracker]
//     [--side-tracker-interval 1800] [--btpeer dist/btpeer] [--keep]
import fs from "node:fs";
import path from "node:path";
import { makeTempDir, removeDir } from "../test/support/files.ts";
import { stopAllServices } from "../test/support/processes.ts";
import { parseSize } from "./swarm/data.ts";
import { startLoopbackTracker } from "./daemon/loopback-tracker.ts";
import { measureDaemon, type ScaleFigures } from "./daemon/side-by-side.ts";
import { btpeerDaemon, qbittorrentDaemon, transmissionDaemon } from "./daemon/side-daemons.ts";
import { makeSmallTorrents } from "./daemon/small-torrents.ts";
import { leech } from "./daemon/leech.ts";
import { many } from "./daemon/many.ts";

interface Options {
  only: string[];
  size: number;
  count: number;
  sideCount: number;
  transmissionCount: number;
  sideDaemons: string[];
  /** Every small torrent names a loopback tracker of ours (its announce interval, seconds); null: none. */
  sideTracker: number | null;
  btpeer: string;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    only: ["leech", "many", "side"],
    size: parseSize("1G"),
    count: 10_000,
    sideCount: 10_000,
    transmissionCount: 2000,
    sideDaemons: ["btpeer", "qbittorrent", "transmission"],
    sideTracker: null,
    btpeer: path.resolve("dist/btpeer"),
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? "";
    switch (argv[i]) {
      case "--only":
        o.only = value().split(",");
        break;
      case "--size":
        o.size = parseSize(value());
        break;
      case "--count":
        o.count = Number(value());
        break;
      case "--side-count":
        o.sideCount = Number(value());
        break;
      case "--transmission-count":
        o.transmissionCount = Number(value());
        break;
      case "--side-daemons":
        o.sideDaemons = value().split(",");
        break;
      case "--side-tracker":
        o.sideTracker ??= 1800;
        break;
      case "--side-tracker-interval":
        o.sideTracker = Number(value());
        break;
      case "--btpeer":
        o.btpeer = path.resolve(value());
        break;
      case "--keep":
        o.keep = true;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

// ---- 3. the same small torrents in btpeer, qBittorrent and Transmission ----------------------------------

async function side(o: Options, tmp: string): Promise<void> {
  const counts = { btpeer: o.sideCount, qbittorrent: o.sideCount, transmission: Math.min(o.sideCount, o.transmissionCount) };
  console.log(`\n3. small torrents through each daemon's own API, side by side (${o.sideCount}; Transmission ${counts.transmission})`);
  const tracker = o.sideTracker === null ? null : await startLoopbackTracker(o.sideTracker);
  console.log(
    tracker
      ? `  every torrent names a tracker: ours, its own process, at ${tracker.announce} (interval ${o.sideTracker} s), for every daemon alike`
      : "  the torrents name no tracker (--side-tracker gives them one)",
  );
  const data = path.join(tmp, "side-data");
  const torrents = makeSmallTorrents(o.sideCount, 16 * 1024, data, path.join(tmp, "side-torrents"), tracker?.announce);
  const wanted = (name: string) => o.sideDaemons.includes(name);
  const daemons = [
    ...(wanted("btpeer") ? [{ count: counts.btpeer, d: btpeerDaemon([o.btpeer], path.join(tmp, "side-btpeer"), data) }] : []),
    ...(wanted("qbittorrent") && Bun.which("qbittorrent-nox") ? [{ count: counts.qbittorrent, d: qbittorrentDaemon(path.join(tmp, "side-qb"), data) }] : []),
    ...(wanted("transmission") && Bun.which("transmission-daemon")
      ? [{ count: counts.transmission, d: transmissionDaemon(path.join(tmp, "side-tr"), data) }]
      : []),
  ];
  if (!Bun.which("qbittorrent-nox") || !Bun.which("transmission-daemon"))
    console.log("  (qbittorrent-nox or transmission-daemon missing: sudo apt-get install -y qbittorrent-nox transmission-daemon)");
  const rows: ScaleFigures[] = [];
  for (const { count, d } of daemons) rows.push(await measureDaemon(d, torrents.slice(0, count), 3_600_000, (line) => console.log(line)));
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}`;
  console.log(
    "| daemon | torrents | add until all seeding (s) | peak RSS (MiB) | peak RssAnon | peak RssFile | peak RSS ÷ torrents | RSS after restart | restart to all seeding (s) | full list p50 (ms) | p99 (ms) | RSS after 21 lists | RSS 5 s after the lists |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const f of rows) {
    console.log(
      `| ${f.name} | ${f.count} | ${f.addSeconds.toFixed(1)} | ${mib(f.peak.peakRss)} | ${mib(f.peak.peakAnon)} | ${mib(f.peak.peakFile)} | ${(f.peak.peakRss / f.count / 1024).toFixed(1)} KiB | ` +
        `${mib(f.steadyRss)} | ${f.restartSeconds.toFixed(2)} | ${f.listP50Ms.toFixed(1)} | ${f.listP99Ms.toFixed(1)} | ${mib(f.rssAfterLists)} | ${mib(f.rssAfterListsQuiet)} |`,
    );
  }
  console.log(tracker ? `  (every torrent named the loopback tracker, interval ${o.sideTracker} s)` : "  (the torrents named no tracker)");
  for (const f of rows) {
    const saved = f.savedSeconds > 0 ? `; its state on disk held all ${f.count} ${f.savedSeconds.toFixed(0)} s after the first add` : "";
    console.log(`  ${f.name}: peak RSS ${mib(f.addPeakRss)} MiB adding, ${mib(f.restartPeakRss)} MiB restarting; ${f.setup}${saved}`);
  }
  const ours = rows.find((f) => f.name === "btpeer daemon");
  const qb = rows.find((f) => f.name === "qbittorrent-nox");
  if (ours && qb && ours.count === qb.count) {
    console.log(
      `  btpeer ÷ qbittorrent-nox at ${ours.count}: peak RSS (VmHWM) ${(ours.peak.peakRss / qb.peak.peakRss).toFixed(2)} (target ≤ 0.5), ` +
        `peak RssAnon ${(ours.peak.peakAnon / qb.peak.peakAnon).toFixed(2)}, restart ${(ours.restartSeconds / qb.restartSeconds).toFixed(2)} (target ≤ 0.5)`,
    );
  }
  if (ours) console.log(`  btpeer full list (sync/maindata): p50 ${ours.listP50Ms.toFixed(1)} ms (target < 200 ms)`);
}

const o = parseOptions(process.argv.slice(2));
if (!fs.existsSync(o.btpeer)) throw new Error(`${o.btpeer} is missing: npm run build first`);
const tmp = makeTempDir("btpeer-bench-daemon-");
try {
  if (o.only.includes("leech")) await leech(o, tmp);
  if (o.only.includes("many")) await many(o, tmp);
  if (o.only.includes("side")) await side(o, tmp);
} finally {
  await stopAllServices();
  if (!o.keep) removeDir(tmp);
}
