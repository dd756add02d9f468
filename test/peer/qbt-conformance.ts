// One conformance suite for the qBittorrent Web API v2, driven by @ctrl/qbittorrent (the client that
// media managers and ratio tools use, written by others), run against a real qbittorrent-nox as the
// reference and against `btpeer daemon` (test/peer/qbt-conformance.test.ts). The same assertions pass
// on both; where btpeer must differ, the target says so in `differs`, and the case names the difference.
import { QBittorrent } from "@ctrl/qbittorrent";
import { expect, test } from "bun:test";
import fs from "node:fs";
import { INFO_FIELDS, PROPERTY_FIELDS } from "./qbt-fields.ts";

export interface QbtTarget {
  name: string;
  /** http://127.0.0.1:port (the API lives under /api/v2). */
  baseUrl: string;
  username: string;
  password: string;
  /** A multi-file .torrent (two files) whose data is complete in `dataDir`, and its info hash. */
  torrentFile: string;
  infoHash: string;
  dataDir: string;
  /** A second .torrent whose data is nowhere: it stays incomplete. */
  emptyTorrentFile: string;
  emptyInfoHash: string;
  emptySaveDir: string;
}

const SEEDING = ["uploading", "stalledUP"];
const DEADLINE_MS = 60_000;

type Json = Record<string, unknown>;

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS} ms (safety deadline)`);
    await Bun.sleep(200);
  }
}

/** Registers the suite's tests for one target; `target()` is ready after the describe's beforeAll. */
export function qbtConformance(target: () => QbtTarget): void {
  let client: QBittorrent;
  const t = () => target();
  const raw = async (path: string, init?: RequestInit) => fetch(`${t().baseUrl}/api/v2/${path}`, init);
  const info = async (params = ""): Promise<Json[]> => {
    const res = await raw(`torrents/info${params}`, { headers: await cookie() });
    expect(res.status).toBe(200);
    return (await res.json()) as Json[];
  };
  let sid = "";
  const cookie = async () => ({ cookie: `SID=${sid}` });

  test("a wrong password gets Fails. and no session; requests without one get 403", async () => {
    const res = await raw("auth/login", { method: "POST", body: new URLSearchParams({ username: t().username, password: "not-the-password" }) });
    expect(await res.text()).toBe("Fails.");
    expect(res.headers.get("set-cookie") ?? "").not.toContain("SID=");
    expect((await raw("torrents/info")).status).toBe(403);
    expect((await raw("app/version", { headers: { cookie: "SID=made-up" } })).status).toBe(403);
  });

  test("auth/login with the password sets the SID cookie; the client logs in", async () => {
    const res = await raw("auth/login", { method: "POST", body: new URLSearchParams({ username: t().username, password: t().password }) });
    expect(await res.text()).toBe("Ok.");
    sid = /SID=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1] ?? "";
    expect(sid.length).toBeGreaterThan(0);
    client = new QBittorrent({ baseUrl: t().baseUrl, username: t().username, password: t().password });
    expect(await client.login()).toBe(true);
  });

  test("app: version, webapiVersion, buildInfo, defaultSavePath, preferences", async () => {
    expect(await client.getAppVersion()).toMatch(/^v\d+\.\d+\.\d+/);
    expect(await client.getApiVersion()).toMatch(/^2\.\d+/);
    const build = (await client.getBuildInfo()) as unknown as Json;
    for (const key of ["bitness", "libtorrent", "qt"]) expect(build).toHaveProperty(key);
    expect(typeof (await client.getDefaultSavePath())).toBe("string");
    const prefs = (await client.getPreferences()) as unknown as Json;
    for (const key of ["listen_port", "dl_limit", "up_limit", "max_connec", "save_path", "dht", "pex"]) expect(prefs).toHaveProperty(key);
  });

  // qbittorrent-nox 4.5.2's own defaults are all tiers on, all trackers off (btpeer's too: daemon-settings.test.ts);
  // the suite's qBittorrent profile turns all trackers on (test/support/qbittorrent.ts), so this reads them back.
  test("app/preferences: announce_to_all_tiers and announce_to_all_trackers are booleans that setPreferences changes", async () => {
    const announcing = async () => {
      const prefs = (await client.getPreferences()) as unknown as Json;
      return [prefs.announce_to_all_tiers, prefs.announce_to_all_trackers];
    };
    const [tiers, trackers] = await announcing();
    expect([typeof tiers, typeof trackers]).toEqual(["boolean", "boolean"]);
    await client.setPreferences({ announce_to_all_tiers: false, announce_to_all_trackers: true });
    expect(await announcing()).toEqual([false, true]);
    await client.setPreferences({ announce_to_all_tiers: true, announce_to_all_trackers: false });
    expect(await announcing()).toEqual([true, false]);
    await client.setPreferences({ announce_to_all_tiers: tiers as boolean, announce_to_all_trackers: trackers as boolean });
    expect(await announcing()).toEqual([tiers, trackers]);
  });

  test("torrents/add (multipart) with savepath, category and tags; it checks and seeds", async () => {
    await client.createCategory("conformance", "");
    const ok = await client.addTorrent(fs.readFileSync(t().torrentFile), { savepath: t().dataDir, category: "conformance", tags: "one,two" });
    expect(ok).toBe(true);
    const row = await until("seeding", async () => (await info()).find((r) => r.hash === t().infoHash && SEEDING.includes(String(r.state))));
    expect(row.progress).toBe(1);
    expect(row.category).toBe("conformance");
    expect(String(row.tags).split(", ").sort()).toEqual(["one", "two"]);
  });

  test("torrents/info lists every field qBittorrent lists, with its type", async () => {
    const row = (await info()).find((r) => r.hash === t().infoHash)!;
    expect(Object.keys(row).sort()).toEqual([...INFO_FIELDS].sort());
    expect(row.infohash_v1).toBe(t().infoHash);
    expect(row.size).toBe(row.total_size);
    expect(row.amount_left).toBe(0);
    expect(row.completed).toBe(row.size);
    expect(row.save_path).toBe(t().dataDir.replace(/\/?$/, ""));
    expect(String(row.magnet_uri)).toStartWith(`magnet:?xt=urn:btih:${t().infoHash}`);
    for (const key of ["added_on", "dlspeed", "upspeed", "eta", "ratio", "num_seeds", "num_leechs", "trackers_count"]) expect(typeof row[key]).toBe("number");
    for (const key of ["auto_tmm", "seq_dl", "force_start", "super_seeding"]) expect(typeof row[key]).toBe("boolean");
  });

  test("torrents/properties, files, trackers and pieceStates", async () => {
    const props = (await client.torrentProperties(t().infoHash)) as unknown as Json;
    for (const key of PROPERTY_FIELDS) expect(props).toHaveProperty(key);
    expect(props.pieces_have).toBe(props.pieces_num);
    const files = (await client.torrentFiles(t().infoHash)) as unknown as Json[];
    expect(files.length).toBe(2);
    expect(files.map((f) => f.index)).toEqual([0, 1]);
    for (const f of files) {
      expect(f.priority).toBe(1);
      expect(f.progress).toBe(1);
      expect(Array.isArray(f.piece_range)).toBe(true);
    }
    const trackers = (await client.torrentTrackers(t().infoHash)) as unknown as Json[];
    expect(trackers.slice(0, 3).map((r) => r.url)).toEqual(["** [DHT] **", "** [PeX] **", "** [LSD] **"]);
    expect(trackers.length).toBe(4);
    const pieces = (await client.torrentPieceStates(t().infoHash)) as unknown as number[];
    expect(pieces.length).toBe(props.pieces_num as number);
    expect(pieces.every((p) => p === 2)).toBe(true);
  });

  test("an unknown hash: 404 on a single-torrent read, ignored by batch operations", async () => {
    const unknown = "0".repeat(40);
    expect((await raw(`torrents/properties?hash=${unknown}`, { headers: await cookie() })).status).toBe(404);
    const res = await raw("torrents/pause", { method: "POST", headers: await cookie(), body: new URLSearchParams({ hashes: unknown }) });
    expect(res.status).toBe(200);
  });

  test("an incomplete torrent added paused is listed as pausedDL; filters, sort, limit and offset", async () => {
    await client.addTorrent(fs.readFileSync(t().emptyTorrentFile), { savepath: t().emptySaveDir, paused: "true" });
    const row = await until("listed", async () => (await info()).find((r) => r.hash === t().emptyInfoHash && r.state === "pausedDL"));
    expect(row.progress).toBe(0);
    const hashes = (rows: Json[]) => rows.map((r) => r.hash).sort();
    expect(hashes(await info("?filter=paused"))).toEqual([t().emptyInfoHash]);
    expect(hashes(await info("?filter=completed"))).toEqual([t().infoHash]);
    expect(hashes(await info("?filter=downloading"))).toEqual([t().emptyInfoHash]);
    expect(hashes(await info("?category=conformance"))).toEqual([t().infoHash]);
    expect(hashes(await info("?tag=two"))).toEqual([t().infoHash]);
    expect(hashes(await info(`?hashes=${t().emptyInfoHash}`))).toEqual([t().emptyInfoHash]);
    const sorted = (await info("?sort=size")).map((r) => r.size as number);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
    const reversed = (await info("?sort=size&reverse=true")).map((r) => r.size as number);
    expect(reversed).toEqual([...sorted].reverse());
    expect((await info("?sort=size&limit=1")).length).toBe(1);
    expect((await info("?sort=size&limit=1&offset=1"))[0]!.size).toBe(sorted[1]!);
  });

  test("categories and tags: create, list, set; an unknown category is 409", async () => {
    const categories = (await client.getCategories()) as unknown as Record<string, Json>;
    expect(categories.conformance).toMatchObject({ name: "conformance" });
    const res = await raw("torrents/setCategory", {
      method: "POST",
      headers: await cookie(),
      body: new URLSearchParams({ hashes: t().infoHash, category: "nope" }),
    });
    expect(res.status).toBe(409);
    expect((await client.getTags()).sort()).toEqual(["one", "two"]);
    await client.addTorrentTags(t().emptyInfoHash, "three");
    await client.removeTorrentTags(t().infoHash, "one");
    const rows = await info();
    expect(rows.find((r) => r.hash === t().emptyInfoHash)!.tags).toBe("three");
    expect(rows.find((r) => r.hash === t().infoHash)!.tags).toBe("two");
  });

  test("limits and share limits show in the torrent's fields", async () => {
    await client.setTorrentUploadLimit(t().infoHash, 512 * 1024);
    await client.setTorrentDownloadLimit(t().infoHash, 256 * 1024);
    await raw("torrents/setShareLimits", {
      method: "POST",
      headers: await cookie(),
      body: new URLSearchParams({ hashes: t().infoHash, ratioLimit: "2", seedingTimeLimit: "30", inactiveSeedingTimeLimit: "-2" }),
    });
    const row = (await info()).find((r) => r.hash === t().infoHash)!;
    expect(row.up_limit).toBe(512 * 1024);
    expect(row.dl_limit).toBe(256 * 1024);
    expect(row.ratio_limit).toBe(2);
    expect(row.max_ratio).toBe(2);
    expect(row.seeding_time_limit).toBe(30);
  });

  test("addTrackers, editTracker and removeTrackers, with their 404, 409 and 400", async () => {
    const hash = t().emptyInfoHash;
    const post = async (route: string, params: Record<string, string>) =>
      (await raw(`torrents/${route}`, { method: "POST", headers: await cookie(), body: new URLSearchParams(params) })).status;
    const urls = async () => ((await client.torrentTrackers(hash)) as unknown as Json[]).map((r) => String(r.url)).filter((url) => !url.startsWith("** ["));
    const own = "http://127.0.0.1:9/announce";
    const added = "http://127.0.0.1:9/added";
    const edited = "udp://127.0.0.1:9";
    expect(await post("addTrackers", { hash, urls: `${added}\n` })).toBe(200);
    expect(await urls()).toEqual([own, added]);
    expect(await post("editTracker", { hash, origUrl: added, newUrl: edited })).toBe(200);
    expect(await urls()).toEqual([own, edited]);
    expect(await post("editTracker", { hash, origUrl: "http://127.0.0.1:9/nowhere", newUrl: "http://127.0.0.1:9/other" })).toBe(409);
    expect(await post("editTracker", { hash, origUrl: edited, newUrl: own })).toBe(409);
    expect(await post("editTracker", { hash, origUrl: edited, newUrl: "" })).toBe(400);
    expect(await post("editTracker", { hash, origUrl: edited, newUrl: edited })).toBe(200);
    const unknown = "0".repeat(40);
    expect(await post("addTrackers", { hash: unknown, urls: added })).toBe(404);
    expect(await post("editTracker", { hash: unknown, origUrl: own, newUrl: added })).toBe(404);
    expect(await post("removeTrackers", { hash: unknown, urls: own })).toBe(404);
    expect(await post("removeTrackers", { hash, urls: `${edited}|http://127.0.0.1:9/nowhere` })).toBe(200);
    expect(await post("removeTrackers", { hash, urls: "http://127.0.0.1:9/nowhere" })).toBe(200);
    expect(await urls()).toEqual([own]);
  });

  test("torrents/filePrio sets a file to do-not-download; a bad file id is 409", async () => {
    await client.setFilePriority(t().emptyInfoHash, ["1"], 0);
    const files = (await client.torrentFiles(t().emptyInfoHash)) as unknown as Json[];
    expect(files.map((f) => f.priority)).toEqual([1, 0]);
    const res = await raw("torrents/filePrio", {
      method: "POST",
      headers: await cookie(),
      body: new URLSearchParams({ hash: t().emptyInfoHash, id: "7", priority: "0" }),
    });
    expect(res.status).toBe(409);
  });

  test("pause and resume (4.x names and 5.x names)", async () => {
    for (const [stop, start] of [
      ["pause", "resume"],
      ["stop", "start"],
    ]) {
      const form = () => new URLSearchParams({ hashes: t().infoHash });
      const paused = await raw(`torrents/${stop}`, { method: "POST", headers: await cookie(), body: form() });
      if (paused.status === 404) {
        // qBittorrent 4.5 knows only pause/resume; btpeer answers both.
        expect(t().name).toBe("qbittorrent-nox");
        continue;
      }
      await until("paused", async () => ((await info()).find((r) => r.hash === t().infoHash)?.state === "pausedUP" ? true : undefined));
      await raw(`torrents/${start}`, { method: "POST", headers: await cookie(), body: form() });
      await until("seeding again", async () => (SEEDING.includes(String((await info()).find((r) => r.hash === t().infoHash)?.state)) ? true : undefined));
    }
  });

  test("sync/maindata: a full update first, then only what changed since the rid", async () => {
    const full = (await client.getSyncMainData(0)) as unknown as Json;
    expect(full.full_update).toBe(true);
    expect(typeof full.rid).toBe("number");
    const torrents = full.torrents as Record<string, Json>;
    expect(Object.keys(torrents).sort()).toEqual([t().infoHash, t().emptyInfoHash].sort());
    expect(torrents[t().infoHash]).not.toHaveProperty("hash");
    for (const key of ["categories", "tags", "server_state"]) expect(full).toHaveProperty(key);
    await client.setTorrentCategory(t().emptyInfoHash, "conformance");
    const partial = (await client.getSyncMainData(full.rid as number)) as unknown as Json;
    expect(partial.full_update ?? false).toBe(false);
    const changed = (partial.torrents ?? {}) as Record<string, Json>;
    expect(changed[t().emptyInfoHash]?.category).toBe("conformance");
    expect(changed[t().emptyInfoHash]).not.toHaveProperty("name");
  });

  test("sync/maindata: a session's last rid gets a diff; an older rid of it, or an unknown one, gets a full update", async () => {
    const headers = await cookie();
    const get = async (rid: unknown) => (await (await raw(`sync/maindata?rid=${String(rid)}`, { headers })).json()) as Json;
    const first = await get(0);
    expect(first.full_update).toBe(true);
    // Another session (the client's) polling meanwhile changes nothing for this one.
    expect((await client.getSyncMainData(0)).full_update).toBe(true);
    const second = await get(first.rid);
    expect(second.full_update ?? false).toBe(false);
    const third = await get(second.rid);
    expect(third.full_update ?? false).toBe(false);
    // The first rid is older than the last answer (qBittorrent keeps the last one and the last accepted).
    const old = await get(first.rid);
    expect(old.full_update).toBe(true);
    expect(Object.keys(old.torrents as Json).sort()).toEqual([t().infoHash, t().emptyInfoHash].sort());
    expect((await get(987_654)).full_update).toBe(true);
  });

  test("transfer/info", async () => {
    const res = await raw("transfer/info", { headers: await cookie() });
    const transfer = (await res.json()) as Json;
    for (const key of ["connection_status", "dl_info_data", "dl_info_speed", "up_info_data", "up_info_speed", "dl_rate_limit", "up_rate_limit"]) {
      expect(transfer).toHaveProperty(key);
    }
  });

  test("torrents/delete without deleteFiles keeps the data; the torrent is gone", async () => {
    await client.removeTorrent(t().infoHash, false);
    await until("removed", async () => ((await info()).some((r) => r.hash === t().infoHash) ? undefined : true));
    expect(fs.readdirSync(t().dataDir).length).toBeGreaterThan(0);
    await client.removeTorrent(t().emptyInfoHash, true);
    await until("removed", async () => ((await info()).length === 0 ? true : undefined));
  });
}
