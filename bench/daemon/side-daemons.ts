// The three daemons of bench:daemon's side-by-side, each driven through its own API and set up as a server
// operator with thousands of torrents would set it (see `setup` of each).
import fs from "node:fs";
import path from "node:path";
import { startQbittorrent, type QbittorrentPeer } from "../../test/support/qbittorrent.ts";
import { loopbackSettings, TransmissionRpc } from "../../test/support/transmission.ts";
import { freePort } from "../../test/support/ports.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";
import type { DaemonUnderTest } from "./side-by-side.ts";

// ---- qbittorrent-nox ---------------------------------------------------------------------------------

export function qbittorrentDaemon(work: string, dataDir: string): DaemonUnderTest {
  let qb: QbittorrentPeer | null = null;
  const profileDir = path.join(work, "qbittorrent");
  const backup = path.join(profileDir, "qBittorrent", "data", "BT_backup");
  const api = (p: string, init?: RequestInit) => fetch(`${qb!.webUi}/api/v2/${p}`, init);
  return {
    name: "qbittorrent-nox",
    setup:
      "no queue (the default queue keeps 5 torrents active); resume data saved every minute (with the default, " +
      "60, all is left to the exit, which gave up after about 30 s here: 5,000 of 10,000 torrents were gone at " +
      "the restart); added with skip_checking",
    async start() {
      qb = await startQbittorrent({
        dir: dataDir,
        profileDir,
        bittorrent: ["Session\\QueueingSystemEnabled=false", "Session\\SaveResumeDataInterval=1"],
        // Its exit writes the resume data of torrents changed since the last save.
        graceMs: 120_000,
      });
      return qb.service;
    },
    async add(torrents) {
      for (let i = 0; i < torrents.length; i += 200) {
        const form = new FormData();
        for (const t of torrents.slice(i, i + 200)) form.append("torrents", new Blob([t.bytes]), `${t.name}.torrent`);
        form.append("savepath", dataDir);
        // qBittorrent 4.5 checks a torrent in about a second however small (one at a time by default):
        // 10,000 would take hours. It is told the data is good instead; btpeer and Transmission check theirs.
        form.append("skip_checking", "true");
        const res = await api("torrents/add", { method: "POST", body: form });
        if (!res.ok) throw new Error(`qbittorrent-nox add: HTTP ${res.status}`);
      }
    },
    async allSeeding(n) {
      // The n-th seeding torrent, if there is one: an answer of one torrent at most.
      const list = (await (await api(`torrents/info?filter=seeding&limit=1&offset=${n - 1}`)).json()) as unknown[];
      return list.length > 0;
    },
    allSaved(n) {
      return fs.existsSync(backup) && fs.readdirSync(backup).filter((f) => f.endsWith(".fastresume")).length >= n;
    },
    async list() {
      await (await api("sync/maindata?rid=0")).arrayBuffer();
    },
    async stop() {
      await qb?.stop();
      qb = null;
    },
  };
}

// ---- transmission-daemon -----------------------------------------------------------------------------

export function transmissionDaemon(work: string, dataDir: string): DaemonUnderTest {
  const config = path.join(work, "transmission");
  const rpcPort = freePort();
  let service: Service | null = null;
  const transmission = new TransmissionRpc(rpcPort);
  const rpc = (method: string, args: Record<string, unknown>) => transmission.call(method, args);
  return {
    name: "transmission-daemon",
    setup: "no download or seed queue; checks every torrent it is given (its RPC has no way to skip that)",
    async start() {
      fs.mkdirSync(config, { recursive: true });
      const settings = {
        ...loopbackSettings(freePort()),
        "download-dir": dataDir,
        "rpc-enabled": true,
        "rpc-bind-address": "127.0.0.1",
        "rpc-port": rpcPort,
        "rpc-authentication-required": false,
        "download-queue-enabled": false,
        "seed-queue-enabled": false,
      };
      const file = path.join(config, "settings.json");
      const saved = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : {};
      fs.writeFileSync(file, JSON.stringify({ ...saved, ...settings }, null, 1));
      service = await spawnService({
        name: "transmission-daemon",
        cmd: ["transmission-daemon", "-f", "-g", config],
        ready: { port: rpcPort },
        graceMs: 120_000,
      });
      return service;
    },
    async add(torrents) {
      for (const t of torrents) await rpc("torrent-add", { metainfo: Buffer.from(t.bytes).toString("base64"), "download-dir": dataDir });
    },
    async allSeeding(n) {
      const args = await rpc("torrent-get", { fields: ["status"] });
      return (args.torrents as { status: number }[]).filter((t) => t.status === 6).length >= n;
    },
    async list() {
      await rpc("torrent-get", {
        fields: ["id", "name", "status", "percentDone", "rateDownload", "rateUpload", "uploadRatio", "eta", "totalSize", "peersConnected", "addedDate"],
      });
    },
    async stop() {
      await service?.stop();
      service = null;
    },
  };
}

// ---- btpeer daemon -----------------------------------------------------------------------------------

export function btpeerDaemon(binary: string[], work: string, dataDir: string): DaemonUnderTest {
  const stateDir = path.join(work, "btpeer-state");
  const apiPort = freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  let service: Service | null = null;
  let token = "";
  let sid = "";
  const api = (p: string, init: RequestInit = {}) => fetch(`${base}${p}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
  return {
    name: "btpeer daemon",
    setup: "defaults (--no-dht); checks every torrent it is given",
    async start() {
      service = await spawnService({
        name: "btpeer daemon",
        cmd: [
          ...binary,
          "daemon",
          "--port",
          String(freePort()),
          "--bind",
          "127.0.0.1",
          "--api",
          `127.0.0.1:${apiPort}`,
          "--state-dir",
          stateDir,
          "--download-dir",
          dataDir,
          "--no-dht",
          "--json",
        ],
        ready: { port: apiPort },
        readyTimeoutMs: 120_000,
        graceMs: 120_000,
      });
      token = fs.readFileSync(path.join(stateDir, "api-token"), "utf8").trim();
      // The list is read as qBittorrent tools read it: sync/maindata with a session cookie.
      const login = await fetch(`${base}/api/v2/auth/login`, { method: "POST", body: new URLSearchParams({ username: "admin", password: token }) });
      sid = /SID=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1] ?? "";
      return service;
    },
    async add(torrents) {
      for (const t of torrents) {
        const res = await api(`/api/v1/torrents?savePath=${encodeURIComponent(dataDir)}`, {
          method: "POST",
          body: t.bytes,
          headers: { "content-type": "application/x-bittorrent" },
        });
        if (!res.ok) throw new Error(`btpeer add: HTTP ${res.status} ${await res.text()}`);
      }
    },
    async allSeeding(n) {
      const stats = (await (await api("/api/v1/stats")).json()) as { byState: Record<string, number> };
      return (stats.byState.seeding ?? 0) >= n;
    },
    async list() {
      await (await fetch(`${base}/api/v2/sync/maindata?rid=0`, { headers: { cookie: `SID=${sid}` } })).arrayBuffer();
    },
    async stop() {
      await service?.stop();
      service = null;
    },
  };
}
