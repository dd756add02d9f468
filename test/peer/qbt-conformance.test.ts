// The qBittorrent Web API conformance suite (qbt-conformance.ts) against a real qbittorrent-nox, the
// reference, and against `btpeer daemon`: the same cases pass on both.
import { afterAll, beforeAll, describe } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { startQbittorrent, type QbittorrentPeer } from "../support/qbittorrent.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { infoHashHex, mktorrent } from "../support/torrents.ts";
import { type ApiDaemon, requireBinary, startApiDaemon } from "./daemon-api-harness.ts";
import { qbtConformance, type QbtTarget } from "./qbt-conformance.ts";

const PASSWORD = "conformance-password-1";

/** Two torrents: one whose two files are complete in `data/`, one whose data is nowhere. */
function fixtures(dir: string): Omit<QbtTarget, "name" | "baseUrl" | "username" | "password"> {
  const dataDir = path.join(dir, "data");
  fs.mkdirSync(path.join(dataDir, "pair"), { recursive: true });
  makeRandomFile(path.join(dataDir, "pair", "a.bin"), 300_000, 1);
  makeRandomFile(path.join(dataDir, "pair", "b.bin"), 500_000, 2);
  const torrentFile = mktorrent({ source: path.join(dataDir, "pair"), out: path.join(dir, "pair.torrent"), trackers: ["http://127.0.0.1:9/announce"] });
  const spare = path.join(dir, "spare");
  fs.mkdirSync(path.join(spare, "empty"), { recursive: true });
  makeRandomFile(path.join(spare, "empty", "x.bin"), 1_200_000, 3);
  makeRandomFile(path.join(spare, "empty", "y.bin"), 200_000, 4);
  const emptyTorrentFile = mktorrent({ source: path.join(spare, "empty"), out: path.join(dir, "empty.torrent"), trackers: ["http://127.0.0.1:9/announce"] });
  fs.rmSync(spare, { recursive: true });
  const emptySaveDir = path.join(dir, "incomplete");
  fs.mkdirSync(emptySaveDir);
  return { torrentFile, infoHash: infoHashHex(torrentFile), dataDir, emptyTorrentFile, emptyInfoHash: infoHashHex(emptyTorrentFile), emptySaveDir };
}

describe.skipIf(!needs(PROGRAMS.qbittorrent, PROGRAMS.mktorrent))("qBittorrent Web API conformance: qbittorrent-nox (reference)", () => {
  let dir: string;
  let qb: QbittorrentPeer;
  let target: QbtTarget;
  beforeAll(async () => {
    dir = makeTempDir("qbt-ref-");
    const files = fixtures(dir);
    qb = await startQbittorrent({ dir: path.join(dir, "downloads"), profileDir: path.join(dir, "profile"), password: PASSWORD });
    target = { name: "qbittorrent-nox", baseUrl: qb.webUi, username: "admin", password: PASSWORD, ...files };
  }, 90_000);
  afterAll(async () => {
    await qb?.stop();
    removeDir(dir);
  });
  qbtConformance(() => target);
});

describe.skipIf(!needs(PROGRAMS.mktorrent))("qBittorrent Web API conformance: btpeer daemon", () => {
  let dir: string;
  let daemon: ApiDaemon;
  let target: QbtTarget;
  beforeAll(async () => {
    requireBinary();
    dir = makeTempDir("qbt-btpeer-");
    const files = fixtures(dir);
    daemon = await startApiDaemon();
    target = { name: "btpeer", baseUrl: daemon.api, username: "admin", password: daemon.token, ...files };
  }, 90_000);
  afterAll(async () => {
    await daemon?.stop();
    removeDir(dir);
  });
  qbtConformance(() => target);
});
