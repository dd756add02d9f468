// bench:daemon, part 1: one large torrent fetched by `btpeer daemon` and by `btpeer download` from a
// btpeer seeder, medians of four each; the daemon should keep at least 0.95 of download's rate.
import fs from "node:fs";
import path from "node:path";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import { freePort } from "../../test/support/ports.ts";
import { makeRandomFile, removeDir, sha256File } from "../../test/support/files.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";
import { formatSize } from "../swarm/data.ts";
import { daemonCmd, eventOf } from "./daemon-process.ts";

export async function leech(o: { btpeer: string; size: number }, tmp: string): Promise<void> {
  const src = path.join(tmp, "leech-src");
  makeRandomFile(path.join(src, "big.bin"), o.size, 5);
  const { torrent } = await createTorrentFromDisk(path.join(src, "big.bin"), { trackers: [], pieceLength: 1024 * 1024, creationDate: null });
  const torrentFile = path.join(tmp, "big.torrent");
  fs.writeFileSync(torrentFile, torrent);
  const want = await sha256File(path.join(src, "big.bin"));

  const runOnce = async (kind: "daemon" | "download"): Promise<number> => {
    const out = path.join(tmp, `leech-${kind}`);
    const port = freePort();
    const seederPort = freePort();
    const startSeeder = (dial: string[]) =>
      spawnService({
        name: "seeder",
        cmd: [o.btpeer, "seed", torrentFile, "--dir", src, "--json", "--no-dht", "--port", String(seederPort), "--bind", "127.0.0.1", ...dial],
        ready: { line: /"event":"started"/ },
        readyTimeoutMs: 600_000,
        graceMs: 5_000,
      });
    let leecher: Service;
    let seeder: Service;
    let from: number;
    if (kind === "daemon") {
      // The daemon learns of no peer by itself here (no tracker): the seeder dials its port.
      leecher = await spawnService({
        name: "daemon",
        cmd: daemonCmd(o, path.join(tmp, "leech-state"), out, port, path.join(tmp, "leech-watch")),
        ready: { line: /"daemon-started"/ },
        graceMs: 10_000,
      });
      fs.copyFileSync(torrentFile, path.join(tmp, "leech-watch", "big.torrent"));
      await eventOf(leecher, "started");
      seeder = await startSeeder(["--peer", `127.0.0.1:${port}`]);
      from = (await eventOf(seeder, "started")).time;
    } else {
      seeder = await startSeeder([]);
      leecher = await spawnService({
        name: "download",
        cmd: [
          o.btpeer,
          "download",
          torrentFile,
          "--out",
          out,
          "--no-seed",
          "--json",
          "--no-dht",
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--peer",
          `127.0.0.1:${seederPort}`,
        ],
        ready: { line: /"event":"started"/ },
        graceMs: 10_000,
      });
      from = (await eventOf(leecher, "started")).time;
    }
    const done = await eventOf(leecher, "completed");
    const seconds = (done.time - from) / 1000;
    await leecher.stop();
    await seeder.stop();
    const got = await sha256File(path.join(out, "big.bin"));
    if (got !== want) throw new Error(`${kind}: the downloaded file differs from the source`);
    removeDir(out);
    removeDir(path.join(tmp, "leech-state"));
    console.log(`  ${kind.padEnd(8)} ${formatSize(o.size)} in ${seconds.toFixed(2)} s = ${(o.size / 1e6 / seconds).toFixed(0)} MB/s (verified)`);
    return seconds;
  };

  console.log(`leech: one ${formatSize(o.size)} torrent, 1 MiB pieces, from a btpeer seeder (download dials it; it dials the daemon)`);
  const times: Record<string, number[]> = { daemon: [], download: [] };
  for (let run = 0; run < 4; run++) {
    for (const kind of run % 2 === 0 ? (["download", "daemon"] as const) : (["daemon", "download"] as const)) times[kind]!.push(await runOnce(kind));
  }
  // Medians of four each, alternating which goes first: the machine's other load moves single runs a lot.
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return (sorted[1]! + sorted[2]!) / 2;
  };
  const ratio = median(times.download!) / median(times.daemon!);
  console.log(`  daemon rate ÷ download rate (medians of 4 each): ${ratio.toFixed(3)} ${ratio >= 0.95 ? "(≥ 0.95: ok)" : "(below the 0.95 target)"}`);
  removeDir(src);
}
