// Ten real btpeer processes (the compiled dist/btpeer) form a DHT among themselves on loopback: five
// seeders of five torrents with no tracker, five downloaders that know one node each and none of the
// seeders; every torrent is found through the DHT and arrives whole. Then one downloader restarts with
// only its --dht-state file (its bootstrap is a dead port): it rejoins from the saved nodes and finds a
// torrent it did not have. BTPEER_DHT_LOOPBACK_ONLY=1 (.env.test) keeps every packet on loopback.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { freePort } from "../support/ports.ts";
import { isEvent, makeTorrent, ROOT, startBtpeer, type Btpeer } from "../peer/btpeer-harness.ts";

const NOBODY = "127.0.0.1:1";
const SIZE = 1024 * 1024 + 4321;
let dir = "";
let bin = "";
const torrents: { torrent: string; data: string; file: string; sum: string }[] = [];

beforeAll(async () => {
  dir = makeTempDir("btpeer-dht-ten-");
  bin = path.join(ROOT, "dist", "btpeer");
  if (!fs.existsSync(bin)) {
    bin = path.join(dir, "bin", "btpeer");
    const entries = ["peer/cli.ts", "peer/verify/worker.ts", "peer/verify/hash-pool-worker.ts"].map((e) => path.join(ROOT, e));
    const r = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", ...entries, "--outfile", bin], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr.toString()}`);
  }
  for (let i = 0; i < 5; i++) {
    const data = path.join(dir, `seed${i}`);
    const file = `t${i}.bin`;
    makeRandomFile(path.join(data, file), SIZE, 100 + i);
    const torrent = await makeTorrent(path.join(data, file), path.join(dir, `t${i}.torrent`), { pieceLength: 32 * 1024 });
    torrents.push({ torrent, data, file, sum: await sha256File(path.join(data, file)) });
  }
}, 180_000);

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const announced = (p: Btpeer) => p.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1);

test("ten btpeer processes find each other's torrents through their own DHT; a restarted one rejoins from its saved table", async () => {
  const seeders: Btpeer[] = [];
  for (let i = 0; i < 5; i++) {
    // The first starts alone; each next one joins through the one before.
    const bootstrap = i === 0 ? NOBODY : seeders[i - 1]!.address;
    const t = torrents[i]!;
    seeders.push(await startBtpeer(["seed", t.torrent, "--dir", t.data, "--dht-bootstrap", bootstrap], { name: `seeder${i}`, binary: bin }));
  }
  await Promise.all(seeders.map(announced));
  // Each seeder's first announce reached only the seeders started before it (seeder 1's: one node). A
  // downloader's lookup asks the K = 8 nodes closest to the torrent among ten, and could miss that one.
  // An announce fewer than K nodes took is made again within minutes: once every seeder's has reached the
  // four others, each torrent is held by four of the ten nodes, and any eight closest include two of them.
  await Promise.all(seeders.map((p) => p.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 4, 300_000)));

  // Downloader i wants torrent i and knows only seeder i+2's node: the seeder's address comes from the DHT.
  const state = path.join(dir, "leecher0.dht");
  const leecherPorts = [0, 1, 2, 3, 4].map(() => freePort());
  const leechers = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      startBtpeer(
        [
          "download",
          torrents[i]!.torrent,
          "--out",
          path.join(dir, `leecher${i}`),
          "--seed",
          "--dht-bootstrap",
          seeders[(i + 2) % 5]!.address,
          ...(i === 0 ? ["--dht-state", state] : []),
        ],
        { name: `leecher${i}`, binary: bin, port: leecherPorts[i] },
      ),
    ),
  );
  await Promise.all(leechers.map((l) => l.waitFor(isEvent("completed"))));
  for (let i = 0; i < 5; i++) {
    expect(await sha256File(path.join(dir, `leecher${i}`, torrents[i]!.file))).toBe(torrents[i]!.sum);
    // Found through the DHT: the only peer source these downloaders had.
    expect(leechers[i]!.events().some((e) => e.event === "dht" && Number(e.peers) >= 1)).toBe(true);
  }

  // Leecher 0 leaves (its table goes to its --dht-state file) and comes back on the same port with a
  // dead bootstrap address: only the saved nodes can let it in. It now fetches torrent 3, whose seeder
  // it never knew.
  expect(await leechers[0]!.stop()).toBe(0);
  expect(fs.existsSync(state)).toBe(true);
  const again = await startBtpeer(
    ["download", torrents[3]!.torrent, "--out", path.join(dir, "restarted"), "--no-seed", "--dht-bootstrap", NOBODY, "--dht-state", state],
    { name: "restarted", binary: bin, port: leecherPorts[0] },
  );
  const joined = await again.waitFor(isEvent("dht-joined"));
  expect(joined.source).toBe("saved");
  expect(Number(joined.nodes)).toBeGreaterThanOrEqual(2);
  await again.waitFor(isEvent("completed"));
  expect(await again.service.exited).toBe(0);
  expect(await sha256File(path.join(dir, "restarted", torrents[3]!.file))).toBe(torrents[3]!.sum);

  for (const p of [...seeders, ...leechers.slice(1)]) expect(await p.stop()).toBe(0);
}, 600_000);
