// btpeer and libtorrent (python3-libtorrent) in one small DHT on loopback, torrents with no tracker:
// btpeer downloads from a libtorrent seeder it finds only through the DHT, libtorrent downloads from a
// btpeer seeder it finds only through the DHT, each from a .torrent and from a magnet link with no tr=
// (the metadata fetched from the seeder), all checked by checksum; and the BEP 5 `port` message
// both ways: libtorrent's DHT learns our node from ours, we learn its node from its. Two bare
// libtorrent DHT nodes (lt_dht.py) form the DHT's core; libtorrent's loopback restrictions are off,
// nothing points anywhere but 127.0.0.1, and btpeer runs under .env.test's BTPEER_DHT_LOOPBACK_ONLY=1.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { startLtDht, type LtDht } from "../support/libtorrent-dht.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { isEvent, makeTorrent, startBtpeer } from "../peer/btpeer-harness.ts";

const SIZE = 2 * 1024 * 1024 + 999;
const NOBODY = "127.0.0.1:1";
let dir = "";
const core: LtDht[] = [];
const coreNodes = () => core.map((n) => `127.0.0.1:${n.port}`);

async function trackerless(name: string, seed: number) {
  const data = path.join(dir, `${name}-seed`);
  makeRandomFile(path.join(data, `${name}.bin`), SIZE, seed);
  const torrent = await makeTorrent(path.join(data, `${name}.bin`), path.join(dir, `${name}.torrent`), { pieceLength: 64 * 1024 });
  const infoHash = toHex(parseMetainfo(new Uint8Array(await Bun.file(torrent).arrayBuffer())).infoHash);
  return { torrent, data, file: `${name}.bin`, infoHash, sum: await sha256File(path.join(data, `${name}.bin`)) };
}

describe.skipIf(!needs(PROGRAMS.libtorrent))("btpeer and libtorrent find each other through the DHT", () => {
  beforeAll(() => {
    dir = makeTempDir("btpeer-lt-dht-");
  });

  // Each test gets a DHT of its own: the processes of earlier tests, gone by then, would still fill the
  // core's tables and its lookups.
  beforeEach(async () => {
    // Two libtorrent nodes that know each other as ordinary nodes (bootstrap nodes never enter libtorrent's table).
    core.push(await startLtDht([]));
    core.push(await startLtDht([coreNodes()[0]!]));
    core[0]!.send({ cmd: "add_node", host: "127.0.0.1", port: core[1]!.port });
  }, 60_000);

  afterEach(async () => {
    await stopAllServices();
    for (const n of core.splice(0)) await n.stop();
  }, 30_000);

  afterAll(() => removeDir(dir));

  test("btpeer downloads a torrent with no tracker from a libtorrent seeder found only through the DHT", async () => {
    const t = await trackerless("from-lt", 21);
    const seeder = await startLtPeer({ mode: "seed", torrent: t.torrent, dir: t.data, noTrackers: true, dht: coreNodes(), name: "libtorrent seeder" });
    // libtorrent announced the torrent to a node of the core
    await Promise.race(core.map((n) => n.waitFor((e) => e.event === "announce-received" && e.ih === t.infoHash && e.port === seeder.port, 90_000)));

    const leecher = await startBtpeer(["download", t.torrent, "--out", path.join(dir, "bt-out"), "--no-seed", "--dht-bootstrap", coreNodes()[1]!], {
      name: "btpeer leecher",
    });
    await leecher.waitFor((e) => e.event === "dht" && Number(e.peers) >= 1);
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(dir, "bt-out", t.file))).toBe(t.sum);
    await seeder.stop();
  }, 240_000);

  test("libtorrent downloads a torrent with no tracker from a btpeer seeder found only through the DHT", async () => {
    const t = await trackerless("from-bt", 22);
    const seeder = await startBtpeer(["seed", t.torrent, "--dir", t.data, "--dht-bootstrap", coreNodes()[0]!], { name: "btpeer seeder" });
    await seeder.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1);

    const leecher = await startLtPeer({
      mode: "download",
      torrent: t.torrent,
      dir: path.join(dir, "lt-out"),
      noTrackers: true,
      dht: [coreNodes()[1]!],
      timeoutS: 150,
      name: "libtorrent leecher",
    });
    await leecher.finished();
    expect(await sha256File(path.join(dir, "lt-out", t.file))).toBe(t.sum);
    expect(await seeder.stop()).toBe(0);
  }, 240_000);

  test("btpeer downloads a magnet link with no tr= from a libtorrent seeder found only through the DHT", async () => {
    const t = await trackerless("magnet-from-lt", 25);
    const seeder = await startLtPeer({ mode: "seed", torrent: t.torrent, dir: t.data, noTrackers: true, dht: coreNodes(), name: "libtorrent seeder" });
    await Promise.race(core.map((n) => n.waitFor((e) => e.event === "announce-received" && e.ih === t.infoHash && e.port === seeder.port, 90_000)));

    const out = path.join(dir, "magnet-bt-out");
    const leecher = await startBtpeer(["download", `magnet:?xt=urn:btih:${t.infoHash}`, "--out", out, "--no-seed", "--dht-bootstrap", coreNodes()[1]!], {
      name: "btpeer magnet leecher",
    });
    await leecher.waitFor((e) => e.event === "dht" && Number(e.peers) >= 1);
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(out, t.file))).toBe(t.sum);
    await seeder.stop();
  }, 240_000);

  test("libtorrent downloads a magnet link with no tr= from a btpeer seeder found only through the DHT (metadata from btpeer)", async () => {
    const t = await trackerless("magnet-from-bt", 26);
    const seeder = await startBtpeer(["seed", t.torrent, "--dir", t.data, "--dht-bootstrap", coreNodes()[0]!], { name: "btpeer seeder" });
    await seeder.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1);

    const out = path.join(dir, "magnet-lt-out");
    const leecher = await startLtPeer({
      mode: "download",
      torrent: `magnet:?xt=urn:btih:${t.infoHash}`,
      dir: out,
      dht: [coreNodes()[1]!],
      timeoutS: 150,
      name: "libtorrent magnet leecher",
    });
    await leecher.finished();
    expect(await sha256File(path.join(out, t.file))).toBe(t.sum);
    expect(await seeder.stop()).toBe(0);
  }, 240_000);

  test("our port message: libtorrent's DHT learns our node from it", async () => {
    const t = await trackerless("port-ours", 23);
    // libtorrent's DHT knows nobody and is read-only (BEP 43): it answers none of our queries, and our
    // node does not ping a read-only querier back, so the only way our node gets into its table is its
    // own ping to the node our port message named.
    const seeder = await startLtPeer({
      mode: "seed",
      torrent: t.torrent,
      dir: t.data,
      noTrackers: true,
      dht: [],
      dhtReadOnly: true,
      name: "libtorrent seeder (read-only DHT)",
    });
    const leecher = await startBtpeer(
      ["download", t.torrent, "--out", path.join(dir, "port-ours-out"), "--seed", "--peer", seeder.address, "--dht-bootstrap", NOBODY],
      {
        name: "btpeer",
      },
    );
    const ourNode = `127.0.0.1:${Number((await leecher.waitFor(isEvent("dht-joined"))).port)}`;
    await seeder.waitFor((e) => e.event === "dht-nodes" && (e.nodes as string[]).includes(ourNode), 60_000);
    await leecher.waitFor(isEvent("completed"));
    expect(await sha256File(path.join(dir, "port-ours-out", t.file))).toBe(t.sum);
    expect(await leecher.stop()).toBe(0);
    await seeder.stop();
  }, 240_000);

  test("the port message both ways: libtorrent's node and ours find each other from one connection, and we announce to its node", async () => {
    const t = await trackerless("port", 24);
    // A libtorrent seeder whose DHT knows nobody, and a btpeer whose DHT knows nobody: the one
    // connection between them is all either can learn the other's node from.
    const seeder = await startLtPeer({ mode: "seed", torrent: t.torrent, dir: t.data, noTrackers: true, dht: [], name: "libtorrent seeder (lonely DHT)" });
    const leecher = await startBtpeer(
      ["download", t.torrent, "--out", path.join(dir, "port-out"), "--seed", "--peer", seeder.address, "--dht-bootstrap", NOBODY],
      { name: "btpeer (lonely DHT)" },
    );
    const ourNode = `127.0.0.1:${Number((await leecher.waitFor(isEvent("dht-joined"))).port)}`;
    await seeder.waitFor((e) => e.event === "dht-nodes" && (e.nodes as string[]).includes(ourNode), 60_000);
    // Our node holds libtorrent's and announces the torrent to it.
    await leecher.waitFor((e) => e.event === "dht" && Number(e.announcedTo) >= 1, 60_000);
    await seeder.waitFor((e) => e.event === "dht-announce" && e.ih === t.infoHash && e.port === leecher.port, 60_000);
    await leecher.waitFor(isEvent("completed"));
    expect(await sha256File(path.join(dir, "port-out", t.file))).toBe(t.sum);
    expect(await leecher.stop()).toBe(0);
    await seeder.stop();
  }, 240_000);
});
