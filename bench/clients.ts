// npm run bench:clients — piece throughput across the BitTorrent clients people run on servers, on
// loopback, every copy verified by checksum. Three groups per round:
//   1. every client leeching from a btpeer seeder,
//   2. every client leeching from a libtorrent seeder (the reference),
//   3. btpeer leeching from every other client as the seeder.
// Per cell: MB/s (median of the rounds), CPU seconds per GiB of the leecher and of the seeder, the whole
// machine's CPU per GiB (/proc/stat), the leecher's peak RSS and anonymous RSS.
//
// Every transfer has a fresh tracker and a fresh seeder, so nothing an earlier one left behind reaches it.
// The data and torrent are made once for all rounds. Each copy is checked (SHA-256 against the original)
// while the next transfer's tracker and seeder start, and removed before its leecher starts: never
// during a measured window. Each transfer prints where its wall time went (start-ups, waits, transfer).
// Timing: from the leecher's first block on disk (so start-up, connecting, and a client's own delay
// before its first request are not counted: a daemon takes a second or more to start, Transmission
// 10-15 s to let its first peer in) to the moment the client reports every piece verified; CPU over
// the same window, from /proc. Clients that cannot dial a tracker-named loopback peer (Transmission)
// start first, and their seeder is told to dial them.
// How each client is set up for throughput is printed with the results (bench/clients/<client>.ts). The
// command line is bench/clients/options.ts, one transfer bench/clients/transfer.ts (timing.ts: its clocks).
//
//   bun bench/clients.ts [--clients btpeer,libtorrent,...] [--size 1G] [--rounds 3] [--piece 1M]
//                        [--btpeer dist/btpeer] [--json FILE] [--svg FILE] [--max-minutes 20]
//                        [--groups from-btpeer,from-libtorrent,btpeer-from]
// `--groups` runs only those groups of each round: `--clients btpeer,libtorrent --groups from-libtorrent
// --rounds 8` is btpeer and libtorrent leeching from the libtorrent seeder back to back, eight times, and
// the targets then add btpeer's ratio to the next client round by round (a round's transfers run back to
// back, so on a shared machine each round is a fairer pair than the medians).
import { opensslSha1 } from "../peer/bench/openssl.ts";
import { makeTempDir, removeDir } from "../test/support/files.ts";
import { stopAllServices } from "../test/support/processes.ts";
import { needs } from "../test/support/system.ts";
import type { BenchClient } from "./clients/adapter.ts";
import { aria2Client } from "./clients/aria2.ts";
import { btpeerClient } from "./clients/btpeer.ts";
import { delugeClient } from "./clients/deluge.ts";
import { libtorrentClient } from "./clients/libtorrent.ts";
import { OptionError, parseOptions, USAGE } from "./clients/options.ts";
import { qbittorrentClient } from "./clients/qbittorrent.ts";
import { rtorrentClient } from "./clients/rtorrent.ts";
import { BenchTracker } from "./clients/tracker.ts";
import { Bench } from "./clients/transfer.ts";
import { transmissionClient } from "./clients/transmission.ts";
import { type Cell, report } from "./clients/report.ts";
import { formatSize } from "./swarm/data.ts";

async function main(): Promise<void> {
  let o: ReturnType<typeof parseOptions>;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  if (o.help) {
    console.log(USAGE);
    return;
  }
  const all = [btpeerClient(o.btpeerCmd), libtorrentClient, qbittorrentClient, transmissionClient, rtorrentClient, delugeClient, aria2Client];
  const wanted = o.clients.length > 0 ? all.filter((c) => o.clients.includes(c.id)) : all;
  for (const id of o.clients) {
    if (all.some((c) => c.id === id)) continue;
    console.error(`unknown client ${id}; pick from ${all.map((c) => c.id).join(", ")}`);
    process.exit(2);
  }
  const clients = wanted.filter((c) => {
    const missing = c.programs.filter((p) => !needs(p));
    if (missing.length > 0) console.log(`skipping ${c.label}: install it with \`${missing.map((p) => p.install).join(" && ")}\``);
    return missing.length === 0;
  });
  // WebTorrent is the one client of the list that is not here: its npm package depends (through
  // webrtc-polyfill) on node-datachannel, whose install step downloads a prebuilt binary, which the
  // project's dependency rule forbids (only package registries are reachable, and builds must not fetch).
  console.log("not benchmarked: WebTorrent (npm `webtorrent` needs node-datachannel, which downloads a prebuilt binary at install time)");
  const btpeer = clients.find((c) => c.id === "btpeer");
  const libtorrent = clients.find((c) => c.id === "libtorrent");
  if (!btpeer || !libtorrent) throw new Error("bench:clients needs btpeer and libtorrent (the two reference seeders)");

  const tmp = makeTempDir("bench-clients-");
  const tracker = await BenchTracker.start();
  const started = Date.now();
  const bench = new Bench(o, tmp, tracker);
  try {
    console.log(
      `bench:clients — ${formatSize(o.size)}, piece ${formatSize(o.pieceLength)}, ${o.rounds} rounds, clients: ${clients.map((c) => c.label).join(", ")}`,
    );
    const t0 = performance.now();
    bench.prepare();
    await bench.sumsOfSeed();
    console.log(`  data, torrent and checksums made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const sha1 = opensslSha1(o.pieceLength);
    for (let round = 1; round <= o.rounds; round++) {
      if ((Date.now() - started) / 60_000 > o.maxMinutes) {
        console.log(`stopping after round ${round - 1}: --max-minutes ${o.maxMinutes} reached`);
        break;
      }
      const plan: [Cell["group"], BenchClient, BenchClient][] = [
        ...clients.map((c): [Cell["group"], BenchClient, BenchClient] => ["from-btpeer", btpeer, c]),
        ...clients.map((c): [Cell["group"], BenchClient, BenchClient] => ["from-libtorrent", libtorrent, c]),
        ...clients.filter((c) => c !== btpeer && c !== libtorrent).map((c): [Cell["group"], BenchClient, BenchClient] => ["btpeer-from", c, btpeer]),
      ].filter(([group]) => o.groups.includes(group));
      for (const [group, seederClient, leecherClient] of plan) {
        const cell = { ...(await bench.cell(group, seederClient, leecherClient)), round };
        bench.cells.push(cell);
        progress(round, cell);
      }
    }
    await bench.settle();
    report(bench.cells, clients, sha1, o);
  } finally {
    await stopAllServices();
    await tracker.stop();
    removeDir(tmp);
  }
}

function progress(round: number, c: Cell): void {
  console.log(`  round ${round}: ${c.seeder} → ${c.leecher}: ${c.mbps.toFixed(0)} MB/s`);
}

if (import.meta.main) await main();
