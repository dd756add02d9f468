// bench:daemon, part 2: many small seeded torrents in one daemon's state: start-up until all seed (after a
// clean stop and after a SIGKILL), RSS and descriptors per torrent, idle CPU, and the time a full list takes.
import fs from "node:fs";
import path from "node:path";
import type { InfoHash } from "../../shared/ids.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { StateStore } from "../../peer/daemon/state-store.ts";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import { freePort } from "../../test/support/ports.ts";
import { processCpuSeconds } from "../measure.ts";
import { makeRandomFile } from "../../test/support/files.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";
import { formatSize } from "../swarm/data.ts";
import { daemonCmd, status, openFds, parseEvent } from "./daemon-process.ts";

export async function many(o: { btpeer: string; count: number }, tmp: string): Promise<void> {
  const data = path.join(tmp, "many-data");
  const stateDir = path.join(tmp, "many-state");
  fs.mkdirSync(data, { recursive: true });
  console.log(`many: ${o.count} seeded torrents of one 16 KiB file each`);
  let t0 = performance.now();
  const store = StateStore.open(stateDir);
  const layouts: { infoHash: InfoHash; file: string }[] = [];
  for (let i = 0; i < o.count; i++) {
    const file = path.join(data, `f${i}.bin`);
    makeRandomFile(file, 16 * 1024, 1000 + i);
    const { torrent } = await createTorrentFromDisk(file, { trackers: [], pieceLength: 16 * 1024, creationDate: null });
    const meta = parseMetainfo(torrent);
    store.addTorrent({ infoHash: meta.infoHash, metainfo: torrent, savePath: data, options: {}, state: "downloading", addedAt: Date.now() + i });
    layouts.push({ infoHash: meta.infoHash as InfoHash, file });
  }
  // Resume data as a clean stop leaves it: every piece verified, every file stamped.
  const full = new Uint8Array([0x80]);
  for (let i = 0; i < layouts.length; i += 1000) {
    store.writeResume(
      layouts.slice(i, i + 1000).map(({ infoHash, file }) => {
        const st = fs.statSync(file);
        return { infoHash, pieceCount: 1, bitfield: full, uploaded: 0, downloaded: 0, files: [{ index: 0, stamp: { size: st.size, mtimeMs: st.mtimeMs } }] };
      }),
    );
  }
  store.close();
  console.log(`  (state written in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // An empty daemon first: the baseline for memory per torrent.
  const emptyDir = path.join(tmp, "empty-state");
  const empty = await spawnService({ name: "empty daemon", cmd: daemonCmd(o, emptyDir, data, freePort()), ready: { line: /"daemon-started"/ } });
  await Bun.sleep(2000);
  const baseRss = status(empty.pid, "VmRSS");
  await empty.stop();

  const startUp = async (label: string): Promise<Service> => {
    const started = performance.now();
    const daemon = await spawnService({
      name: "daemon",
      cmd: daemonCmd(o, stateDir, data, freePort()),
      ready: { line: /"daemon-started"/ },
      readyTimeoutMs: 600_000,
      graceMs: 60_000,
    });
    let seeding = 0;
    let checked = 0;
    for (const line of daemon.lines) {
      const e = parseEvent(line);
      if (e?.event === "started") {
        seeding++;
        checked += Number(e.checked);
      }
    }
    let seen = daemon.lines.length;
    const deadline = Date.now() + 600_000;
    while (seeding < o.count && Date.now() < deadline) {
      await Bun.sleep(20);
      for (; seen < daemon.lines.length; seen++) {
        const e = parseEvent(daemon.lines[seen]!);
        if (e?.event === "started") {
          seeding++;
          checked += Number(e.checked);
        }
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`  start-up ${label}: ${seeding} torrents seeding after ${seconds.toFixed(2)} s, ${checked} pieces hashed`);
    return daemon;
  };

  const first = await startUp("from state (as a clean stop leaves it)");
  await Bun.sleep(5000);
  const rss = status(first.pid, "VmRSS");
  const cpu0 = processCpuSeconds(first.pid)!;
  await Bun.sleep(10_000);
  const idleCpu = (processCpuSeconds(first.pid)! - cpu0) / 10;
  console.log(
    `  RSS ${formatSize(rss)} (peak ${formatSize(status(first.pid, "VmHWM"))}), empty daemon ${formatSize(baseRss)}: ` +
      `${((rss - baseRss) / o.count / 1024).toFixed(1)} KiB per torrent; ${openFds(first.pid)} open fds; idle CPU ${(idleCpu * 100).toFixed(1)} % of a core`,
  );
  // GET /api/v1/torrents: the whole list as the API serves it, with the token every request needs.
  const api = String(parseEvent(await first.waitForLine(/"daemon-started"/))!.api);
  const token = fs.readFileSync(path.join(stateDir, "api-token"), "utf8").trim();
  const httpTimes: number[] = [];
  let listed = 0;
  for (let k = 0; k < 50; k++) {
    const t = performance.now();
    const response = await fetch(`${api}/api/v1/torrents`, { headers: { authorization: `Bearer ${token}` } });
    listed = ((await response.json()) as unknown[]).length;
    httpTimes.push(performance.now() - t);
  }
  httpTimes.sort((a, b) => a - b);
  console.log(`  GET /api/v1/torrents (${listed} torrents): p50 ${httpTimes[24]!.toFixed(1)} ms, p99 ${httpTimes[49]!.toFixed(1)} ms (50 requests)`);
  t0 = performance.now();
  const code = await first.stop();
  console.log(`  clean stop (SIGTERM): exit ${code} after ${((performance.now() - t0) / 1000).toFixed(2)} s`);

  const second = await startUp("after a clean stop");
  process.kill(second.pid, "SIGKILL");
  await second.exited;
  const third = await startUp("after SIGKILL");
  await third.stop();

  // DaemonControl.list() over all of them, in this process (what GET /api/v1/torrents serialises).
  const daemon = Daemon.open({ stateDir, downloadDir: data, port: 0, bind: "127.0.0.1", log: () => {} });
  let started = 0;
  daemon.subscribe((e) => {
    if (e.event === "started") started++;
  });
  while (started < o.count) await Bun.sleep(20);
  const times: number[] = [];
  for (let k = 0; k < 50; k++) {
    const t = performance.now();
    const list = daemon.list();
    JSON.stringify(list);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`  list() + JSON of ${o.count} torrents: p50 ${times[24]!.toFixed(1)} ms, p99 ${times[49]!.toFixed(1)} ms (50 calls, in-process)`);
  await daemon.close();
}
