// Trackers btpeer never contacts (wss://, WebTorrent's) are listed by the daemon's APIs whatever the torrent
// is doing: awake (here paused after seeding) and dormant (a complete torrent a restart trusts whole starts
// dormant), as qBittorrent lists them: "Not working" (4) with a message; our API says `unsupported`. Before,
// an awake torrent listed them as "not contacted" forever and a dormant wss-only one listed no tracker at
// all. A real `dist/btpeer daemon` process, driven by @ctrl/qbittorrent and our own API; the HTTP and UDP
// trackers are a real opentracker on loopback.
import { QBittorrent } from "@ctrl/qbittorrent";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { TorrentDetail } from "../../peer/daemon/control.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { startOpentracker } from "../support/opentracker.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { infoHashHex, mktorrent } from "../support/torrents.ts";
import { type DaemonProcess, startDaemon } from "./daemon-harness.ts";
import { requireBinary } from "./daemon-api-harness.ts";

const WSS = "wss://127.0.0.1:9/announce";
const HTTP_PORT = freePort();
const UDP_PORT = freePort();
const HTTP = `http://127.0.0.1:${HTTP_PORT}/announce`;
const UDP = `udp://127.0.0.1:${UDP_PORT}/announce`;
/** Each torrent's trackers, one tier each (mktorrent's -a). */
const LISTS = { wssOnly: [WSS], mixed: [HTTP, WSS], udpOnly: [UDP] };
type Name = keyof typeof LISTS;

let dir = "";
const hashes = {} as Record<Name, string>;
const torrents = {} as Record<Name, string>;
const dirs = () => ({ stateDir: path.join(dir, "state"), downloadDir: path.join(dir, "downloads"), watchDir: path.join(dir, "watch") });

beforeAll(async () => {
  dir = makeTempDir("btpeer-unsupported-trackers-");
  let seed = 40;
  for (const name of Object.keys(LISTS) as Name[]) {
    const source = path.join(dir, "data", name);
    makeRandomFile(path.join(source, "a.bin"), 100_000 + seed, seed++);
    torrents[name] = mktorrent({ source, out: path.join(dir, `${name}.torrent`), trackers: [...LISTS[name]], pieceLength: 32 * 1024 });
    hashes[name] = infoHashHex(torrents[name]);
  }
  if (needs(PROGRAMS.opentracker))
    await startOpentracker({ infoHashes: Object.values(hashes), dir: path.join(dir, "tracker"), port: HTTP_PORT, udpPort: UDP_PORT });
}, 60_000);

afterAll(async () => {
  await stopAllServices();
  if (dir) removeDir(dir);
}, 60_000);

type Row = { url: string; status: number; msg: string; tier: number };

/** What both APIs list of a torrent's trackers (qBittorrent's without its DHT, PeX and LSD rows). */
async function listed(daemon: DaemonProcess, client: QBittorrent, token: string, hash: string): Promise<{ qbt: Row[]; own: TorrentDetail["trackers"] }> {
  const rows = (await client.torrentTrackers(hash)) as unknown as Row[];
  const response = await fetch(`${daemon.api}/api/v1/torrents/${hash}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  const detail = (await response.json()) as TorrentDetail;
  return { qbt: rows.filter((r) => r.tier >= 0), own: detail.trackers };
}

/** The wss:// tracker listed as never contacted, the same way in both APIs; every tracker named is listed. */
function expectListed(name: Name, seen: { qbt: Row[]; own: TorrentDetail["trackers"] }): void {
  expect(seen.qbt.map((r) => r.url).sort()).toEqual([...LISTS[name]].sort());
  expect(seen.own.map((t) => t.url).sort()).toEqual([...LISTS[name]].sort());
  for (const row of seen.qbt.filter((r) => r.url.startsWith("wss:"))) {
    expect(row.status).toBe(4);
    expect(row.msg).toContain("not supported");
  }
  for (const t of seen.own.filter((t) => t.url.startsWith("wss:"))) {
    expect(t.status).toBe("unsupported");
    expect(t.lastError).toContain("not supported");
    expect(t.nextAnnounceAt).toBeNull();
  }
  // Trackers btpeer speaks are never said to be unsupported.
  for (const row of seen.qbt.filter((r) => !r.url.startsWith("wss:"))) expect(row.msg).not.toContain("not supported");
  for (const t of seen.own.filter((t) => !t.url.startsWith("wss:"))) expect(t.status).not.toBe("unsupported");
}

async function open(): Promise<{ daemon: DaemonProcess; client: QBittorrent; token: string }> {
  const daemon = await startDaemon(dirs());
  const token = fs.readFileSync(path.join(dirs().stateDir, "api-token"), "utf8").trim();
  const client = new QBittorrent({ baseUrl: daemon.api, username: "admin", password: token });
  expect(await client.login()).toBe(true);
  return { daemon, client, token };
}

async function states(client: QBittorrent): Promise<Map<string, string>> {
  return new Map((await client.listTorrents()).map((t) => [t.hash, String(t.state)]));
}

const seeding = (state: string | undefined) => state === "stalledUP" || state === "uploading";

/** Polls the daemon until every torrent's state satisfies `ok`; the bound is a safety net (60 s). */
async function allIn(client: QBittorrent, ok: (state: string | undefined) => boolean, label: string): Promise<void> {
  const all = Object.values(hashes);
  for (let i = 0; i < 300; i++) {
    const now = await states(client);
    if (all.every((h) => ok(now.get(h)))) return;
    await Bun.sleep(200);
  }
  throw new Error(`gave up waiting for ${label}: ${JSON.stringify([...(await states(client))])}`);
}

describe.skipIf(!needs(PROGRAMS.mktorrent, PROGRAMS.opentracker))("trackers btpeer does not speak (wss://)", () => {
  test("are listed as not working, with why, while the torrent is awake and once it is dormant; HTTP and UDP ones are not", async () => {
    requireBinary();
    let { daemon, client, token } = await open();
    for (const name of Object.keys(LISTS) as Name[]) {
      expect(await client.addTorrent(fs.readFileSync(torrents[name]), { savepath: path.join(dir, "data") })).toBe(true);
    }
    const all = Object.values(hashes);
    await allIn(client, seeding, "the three torrents seeding");

    // Awake: a request that needs the torrent makes it again if it went dormant, and paused it stays so.
    expect(await client.pauseTorrent(all)).toBe(true);
    await allIn(client, (s) => s === "pausedUP", "the three paused");
    for (const name of Object.keys(LISTS) as Name[]) expectListed(name, await listed(daemon, client, token, hashes[name]));

    // Dormant: resumed, then the daemon stopped and started again; complete and trusted, they start dormant.
    expect(await client.resumeTorrent(all)).toBe(true);
    await allIn(client, seeding, "the three seeding again");
    expect(await daemon.stop()).toBe(0);
    ({ daemon, client, token } = await open());
    await allIn(client, seeding, "the three seeding after the restart");
    for (const name of Object.keys(LISTS) as Name[]) expectListed(name, await listed(daemon, client, token, hashes[name]));
    expect(await daemon.stop()).toBe(0);
  }, 180_000);
});
