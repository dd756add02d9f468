// btpeer's DHT as part of the client: a torrent with no tracker is found through the DHT alone. Every
// process gets --dht-bootstrap on loopback (or a dead loopback port) and runs under .env.test's
// BTPEER_DHT_LOOPBACK_ONLY=1: no packet, no DNS query leaves the machine.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { runBtpeer } from "../support/btpeer.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer } from "../peer/btpeer-harness.ts";

const SIZE = 3 * 1024 * 1024 + 777;
/** A loopback port nobody answers on: a bootstrap that finds nobody, without leaving the machine. */
const NOBODY = "127.0.0.1:1";
let dir = "";

beforeAll(() => {
  dir = makeTempDir("btpeer-dht-");
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

async function trackerless(name: string, seed: number): Promise<{ torrent: string; data: string; sum: string }> {
  const data = path.join(dir, `${name}-seed`);
  makeRandomFile(path.join(data, `${name}.bin`), SIZE, seed);
  const torrent = await makeTorrent(path.join(data, `${name}.bin`), path.join(dir, `${name}.torrent`), { pieceLength: 64 * 1024 });
  return { torrent, data, sum: await sha256File(path.join(data, `${name}.bin`)) };
}

test("a downloader finds the seeder of a torrent with no tracker through the DHT alone, and gets it whole", async () => {
  const t = await trackerless("solo", 11);
  // The seeder starts alone: its first announce reaches nobody.
  const seeder = await startBtpeer(["seed", t.torrent, "--dir", t.data, "--dht-bootstrap", NOBODY], { name: "seeder" });
  const alone = await seeder.waitFor(isEvent("dht-joined"));
  expect(alone).toMatchObject({ nodes: 0, source: "none", port: seeder.port });
  // A second node joins through it; the seeder, no longer alone, announces to it.
  const other = await trackerless("other", 12);
  const node = await startBtpeer(["seed", other.torrent, "--dir", other.data, "--dht-bootstrap", seeder.address], { name: "node" });
  expect(await node.waitFor(isEvent("dht-joined"))).toMatchObject({ source: "routers", nodes: 1 });
  await seeder.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1);

  // The downloader knows only the second node: the seeder's address comes from the DHT.
  const leecher = await startBtpeer(["download", t.torrent, "--out", path.join(dir, "solo-out"), "--no-seed", "--dht-bootstrap", node.address], {
    name: "leecher",
  });
  const found = await leecher.waitFor((e) => e.event === "dht" && Number(e.peers) >= 1);
  expect(found.peers).toBeGreaterThanOrEqual(1);
  await leecher.waitFor(isEvent("completed"));
  expect(await leecher.service.exited).toBe(0);
  expect(await sha256File(path.join(dir, "solo-out", "solo.bin"))).toBe(t.sum);
  expect(leecher.events().some((e) => e.event === "error")).toBe(false);
}, 240_000);

test("with the DHT off, or no DHT node answering, a download of a torrent with no tracker and no --peer ends with exit 6", async () => {
  const t = await trackerless("nobody", 13);
  for (const args of [["--no-dht"], ["--dht-bootstrap", NOBODY], []]) {
    // [] : the default routers, which the tests' BTPEER_DHT_LOOPBACK_ONLY=1 leaves unasked (not even looked up)
    const leecher = await startBtpeer(["download", t.torrent, "--out", path.join(dir, "nobody-out"), "--no-seed", ...args], { name: "lonely leecher" });
    expect(await leecher.service.exited).toBe(6);
    expect(leecher.last("error")).toMatchObject({ code: "tracker-unreachable" });
    if (args[0] !== "--no-dht") expect(leecher.last("dht-joined")).toMatchObject({ nodes: 0, source: "none" });
    else expect(leecher.last("dht-joined")).toBeUndefined();
  }
}, 240_000);

test("with the listener's port number taken on UDP, the DHT takes another UDP port and serves on it", async () => {
  const t = await trackerless("udp-taken", 14);
  const port = freePort();
  const squatter = await Bun.udpSocket({ hostname: "0.0.0.0", port });
  try {
    const seeder = await startBtpeer(["seed", t.torrent, "--dir", t.data, "--dht-bootstrap", NOBODY], { name: "seeder on a taken UDP port", port });
    const joined = await seeder.waitFor(isEvent("dht-joined"));
    expect(joined.port).not.toBe(port);
    expect(Number(joined.port)).toBeGreaterThan(0);
    // It still works as a node: a second btpeer joins through the port it reported.
    const other = await trackerless("udp-taken-2", 15);
    const node = await startBtpeer(["seed", other.torrent, "--dir", other.data, "--dht-bootstrap", `127.0.0.1:${joined.port}`], { name: "node" });
    expect(await node.waitFor(isEvent("dht-joined"))).toMatchObject({ source: "routers", nodes: 1 });
  } finally {
    squatter.close();
  }
}, 240_000);

test("--dht-bootstrap wants host:port, and --no-dht contradicts --dht-bootstrap and --dht-state: exit 2", async () => {
  for (const args of [
    ["--dht-bootstrap", "router.example"],
    ["--dht-bootstrap", "127.0.0.1:0"],
    ["--no-dht", "--dht-bootstrap", NOBODY],
    ["--no-dht", "--dht-state", path.join(dir, "x.dht")],
  ]) {
    const r = await runBtpeer(["download", path.join(dir, "none.torrent"), "--out", path.join(dir, "none"), ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--dht-bootstrap wants host:port|--no-dht contradicts/);
  }
});
