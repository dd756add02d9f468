// bun bench/daemon/torrent-heap.ts [count] [--dht] — what one idle seeding torrent costs in a daemon's JS
// heap, in this process: `count` (default 2,000) small seeded torrents (one 16 KiB file each) in a state as
// a clean stop leaves it, opened by Daemon; heap size, RSS and the object types that grew, over the count,
// after every torrent has started and a full GC. The daemon's own fixed cost is in the difference too (small
// beside thousands of torrents). --dht: the daemon's DHT on as well (loopback only, no router: it joins
// nobody), every dormant torrent in its announcer.
import { heapStats } from "bun:jsc";
import fs from "node:fs";
import path from "node:path";
import type { InfoHash } from "../../shared/ids.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { StateStore } from "../../peer/daemon/state-store.ts";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../../test/support/files.ts";

const args = process.argv.slice(2);
const withDht = args.includes("--dht");
const count = Number(args.find((a) => !a.startsWith("--")) ?? 2000);
const tmp = makeTempDir("btpeer-torrent-heap-");
try {
  const data = path.join(tmp, "data");
  const stateDir = path.join(tmp, "state");
  fs.mkdirSync(data, { recursive: true });
  const store = StateStore.open(stateDir);
  const full = new Uint8Array([0x80]);
  const resume = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(data, `f${i}.bin`);
    makeRandomFile(file, 16 * 1024, 1000 + i);
    const { torrent } = await createTorrentFromDisk(file, { trackers: [], pieceLength: 16 * 1024, creationDate: null });
    const meta = parseMetainfo(torrent);
    store.addTorrent({ infoHash: meta.infoHash, metainfo: torrent, savePath: data, options: {}, state: "downloading", addedAt: Date.now() + i });
    const st = fs.statSync(file);
    resume.push({
      infoHash: meta.infoHash as InfoHash,
      pieceCount: 1,
      bitfield: full,
      uploaded: 0,
      downloaded: 0,
      files: [{ index: 0, stamp: { size: st.size, mtimeMs: st.mtimeMs } }],
    });
  }
  store.writeResume(resume);
  store.close();

  const measure = () => {
    Bun.gc(true);
    const s = heapStats();
    return { heap: s.heapSize, objects: s.objectCount, types: { ...s.objectTypeCounts }, rss: process.memoryUsage().rss };
  };
  const before = measure();
  const daemon = Daemon.open({ stateDir, downloadDir: data, port: 0, bind: "127.0.0.1", log: () => {} });
  let started = 0;
  daemon.subscribe((e) => {
    if (e.event === "started") started++;
  });
  const deadline = Date.now() + 600_000;
  while (started < count && Date.now() < deadline) await Bun.sleep(20);
  if (withDht) await daemon.startDht({ bootstrap: [], loopbackOnly: true });
  await Bun.sleep(3000); // a few ticks: each torrent reports once that it went idle
  const after = measure();
  const per = (n: number) => (n / count).toFixed(1);
  console.log(
    `${started} of ${count} torrents seeding: JS heap ${per((after.heap - before.heap) / 1024)} KiB/torrent, ` +
      `RSS ${per((after.rss - before.rss) / 1024)} KiB/torrent, ${per(after.objects - before.objects)} objects/torrent` +
      (withDht ? `; DHT: ${daemon.stats().dht?.torrents} torrents in its schedule` : ""),
  );
  const grew = Object.entries(after.types)
    .map(([type, n]) => [type, (n - (before.types[type] ?? 0)) / count] as const)
    .filter(([, n]) => n >= 0.5)
    .sort((a, b) => b[1] - a[1]);
  console.log(`  per torrent: ${grew.map(([type, n]) => `${type} ${n.toFixed(1)}`).join(", ")}`);
  await daemon.close();
} finally {
  removeDir(tmp);
}
