// `btpeer daemon` (dist/btpeer) on the DHT, loopback only: a torrent with no tracker dropped into its
// watch folder is found through the DHT and downloaded; the daemon keeps its routing table in its state
// dir, and restarted with a dead bootstrap address it rejoins from the saved nodes alone and finds
// another torrent; GET /api/v1/stats and /metrics show the DHT. The DHT here is four of our nodes in the test process plus btpeer seeders; the
// daemon runs under .env.test's BTPEER_DHT_LOOPBACK_ONLY=1.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { DhtStatus } from "../../peer/daemon/control.ts";
import { toHex } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { DhtNode } from "../../peer/dht/node.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { makeTorrent, startBtpeer } from "../peer/btpeer-harness.ts";
import { startDaemon, torrentEvent, type DaemonEvent, type DaemonProcess } from "../peer/daemon-harness.ts";
import { parseSamples, promtoolCheck, sampleValue } from "../tracker/metrics-text.ts";
import { startLoopbackDht } from "../support/loopback-dht.ts";

const NOBODY = "127.0.0.1:1";
const nodes: DhtNode[] = [];
let dir = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-daemon-dht-");
  await startLoopbackDht(nodes, 4);
});

afterAll(async () => {
  await stopAllServices();
  nodes.forEach((n) => n.close());
  removeDir(dir);
}, 30_000);

/** A torrent with no tracker, seeded by a btpeer that announced it on the DHT. */
async function seeded(name: string, seed: number) {
  const data = path.join(dir, `${name}-seed`);
  makeRandomFile(path.join(data, `${name}.bin`), 1024 * 1024 + seed, seed);
  const torrent = await makeTorrent(path.join(data, `${name}.bin`), path.join(dir, `${name}.torrent`), { pieceLength: 32 * 1024 });
  const seeder = await startBtpeer(["seed", torrent, "--dir", data, "--dht-bootstrap", `127.0.0.1:${nodes[0]!.port(4)}`], { name: `${name} seeder` });
  await seeder.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1);
  const infoHash = toHex(parseMetainfo(new Uint8Array(await Bun.file(torrent).arrayBuffer())).infoHash);
  return { torrent, infoHash, file: `${name}.bin`, sum: await sha256File(path.join(data, `${name}.bin`)) };
}

/** A call of the daemon's API with the token it wrote into its state dir. */
function api(daemon: DaemonProcess, route: string): Promise<Response> {
  const token = readFileSync(path.join(daemon.stateDir, "api-token"), "utf8").trim();
  return fetch(`http://127.0.0.1:${new URL(daemon.api).port}${route}`, { headers: { authorization: `Bearer ${token}` } });
}

const dhtLog = (e: DaemonEvent) => e.event === "log" && String(e.message).startsWith("DHT:");

test("the daemon finds a trackerless torrent's seeder through the DHT, keeps its table in the state dir, and rejoins from it after a restart", async () => {
  const dirs = { stateDir: path.join(dir, "state"), downloadDir: path.join(dir, "downloads"), watchDir: path.join(dir, "watch") };
  const first = await seeded("first", 31);
  const daemon = await startDaemon({ ...dirs, extra: ["--dht-bootstrap", `127.0.0.1:${nodes[1]!.port(4)}`] });
  expect(String((await daemon.waitFor(dhtLog)).message)).toMatch(/^DHT: \d+ nodes from the routers$/);
  daemon.drop(first.torrent);
  await daemon.waitFor(torrentEvent("completed", first.infoHash));
  expect(await sha256File(path.join(dirs.downloadDir, first.file))).toBe(first.sum);

  // The API's stats and /metrics show the DHT.
  const stats = (await (await api(daemon, "/api/v1/stats")).json()) as { dht: DhtStatus };
  expect(stats.dht).toMatchObject({ state: "joined", torrents: 1, nodes: { ipv6: 0 } });
  expect(stats.dht.nodes.ipv4).toBeGreaterThanOrEqual(3);
  expect(stats.dht.buckets.ipv4).toBeGreaterThanOrEqual(1);
  expect(stats.dht.lookups).toBeGreaterThanOrEqual(1);
  expect(stats.dht.peersFound).toBeGreaterThanOrEqual(1);
  const text = await (await api(daemon, "/metrics")).text();
  promtoolCheck(text);
  const samples = parseSamples(text);
  expect(sampleValue(samples, "btpeer_dht_joined")).toBe(1);
  expect(sampleValue(samples, "btpeer_dht_nodes", { family: "ipv4" })).toBe(stats.dht.nodes.ipv4);
  expect(sampleValue(samples, "btpeer_dht_lookups_total")).toBeGreaterThanOrEqual(1);
  expect(sampleValue(samples, "btpeer_dht_torrents")).toBe(1);
  expect(await daemon.stop()).toBe(0);

  // Restarted with a bootstrap address where nobody answers: only the table in the state dir lets it in.
  const second = await seeded("second", 32);
  const again = await startDaemon({ ...dirs, port: daemon.port, extra: ["--dht-bootstrap", NOBODY] });
  expect(String((await again.waitFor(dhtLog)).message)).toMatch(/^DHT: \d+ nodes from the saved table$/);
  again.drop(second.torrent);
  await again.waitFor(torrentEvent("completed", second.infoHash));
  expect(await sha256File(path.join(dirs.downloadDir, second.file))).toBe(second.sum);
  expect(again.events().some((e) => e.event === "dht" && e.infoHash === second.infoHash && Number(e.peers) >= 1)).toBe(true);
  expect(await again.stop()).toBe(0);
}, 240_000);

test("--no-dht: no DHT at all, and --no-dht beside --dht-bootstrap is a usage error", async () => {
  const dirs = { stateDir: path.join(dir, "state-off"), downloadDir: path.join(dir, "downloads-off"), watchDir: path.join(dir, "watch-off") };
  const daemon = await startDaemon({ ...dirs, extra: ["--no-dht"] });
  expect(((await (await api(daemon, "/api/v1/stats")).json()) as { dht: unknown }).dht).toBeNull();
  expect(await (await api(daemon, "/metrics")).text()).not.toContain("btpeer_dht_");
  expect(await daemon.stop()).toBe(0);
  expect(daemon.events().some(dhtLog)).toBe(false);
  await expect(startDaemon({ ...dirs, extra: ["--no-dht", "--dht-bootstrap", NOBODY] })).rejects.toThrow(/--no-dht contradicts/);
}, 120_000);
