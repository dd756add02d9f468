// The daemons side by side at scale (issue 15): N small torrents added through each one's own API to
// btpeer daemon, qbittorrent-nox and transmission-daemon, each seeding from data already on disk. Per
// daemon: peak RSS once all are seeding, start-up to all seeding again after a clean restart, and the
// time of a full list (sync/maindata for qBittorrent and btpeer, torrent-get for Transmission).
import fs from "node:fs";
import path from "node:path";
import { startQbittorrent, type QbittorrentPeer } from "../../test/support/qbittorrent.ts";
import { loopbackSettings, TransmissionRpc } from "../../test/support/transmission.ts";
import { freePort } from "../../test/support/ports.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";
import { sampleMemory, type MemoryPeaks } from "../memory-sampler.ts";
import type { SmallTorrent } from "./small-torrents.ts";

export interface DaemonUnderTest {
  name: string;
  /** Starts the daemon (on its existing state, after the first time). */
  start(): Promise<Service>;
  add(torrents: SmallTorrent[]): Promise<void>;
  seeding(): Promise<number>;
  /** One full list, as a tool polling the daemon reads it. */
  list(): Promise<void>;
  stop(): Promise<void>;
}

export interface ScaleFigures {
  name: string;
  addSeconds: number;
  peak: MemoryPeaks;
  restartSeconds: number;
  listP50Ms: number;
  listP99Ms: number;
}

const LIST_SAMPLES = 21;

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, service: Service): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (service.hasExited) throw new Error(`${service.name} exited before ${what}\n${service.output()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${service.output()}`);
    await Bun.sleep(100);
  }
}

export async function measureDaemon(d: DaemonUnderTest, torrents: SmallTorrent[], timeoutMs: number): Promise<ScaleFigures> {
  const n = torrents.length;
  let service = await d.start();
  let memory = sampleMemory(service.pid, 200);
  const t0 = performance.now();
  await d.add(torrents);
  await until(`${d.name}: all ${n} seeding`, timeoutMs, async () => (await d.seeding()) >= n, service);
  const addSeconds = (performance.now() - t0) / 1000;
  const peak = memory.stop() ?? { peakRss: 0, peakAnon: 0 };
  await d.stop();
  const t1 = performance.now();
  service = await d.start();
  memory = sampleMemory(service.pid, 200);
  await until(`${d.name}: all ${n} seeding after a restart`, timeoutMs, async () => (await d.seeding()) >= n, service);
  const restartSeconds = (performance.now() - t1) / 1000;
  const times: number[] = [];
  for (let i = 0; i < LIST_SAMPLES; i++) {
    const t = performance.now();
    await d.list();
    times.push(performance.now() - t);
  }
  const restartPeak = memory.stop();
  await d.stop();
  times.sort((a, b) => a - b);
  return {
    name: d.name,
    addSeconds,
    peak: restartPeak && restartPeak.peakRss > peak.peakRss ? restartPeak : peak,
    restartSeconds,
    listP50Ms: times[Math.floor(times.length / 2)]!,
    listP99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!,
  };
}

// ---- qbittorrent-nox ---------------------------------------------------------------------------------

export function qbittorrentDaemon(work: string, dataDir: string): DaemonUnderTest {
  let qb: QbittorrentPeer | null = null;
  const api = (p: string, init?: RequestInit) => fetch(`${qb!.webUi}/api/v2/${p}`, init);
  return {
    name: "qbittorrent-nox",
    async start() {
      // Every torrent active at once (no queue) and checked two at a time, as a seedbox would set it:
      // with the defaults qBittorrent seeds 5 torrents and checks one at a time (about a second each).
      qb = await startQbittorrent({
        dir: dataDir,
        profileDir: path.join(work, "qbittorrent"),
        bittorrent: ["Session\\QueueingSystemEnabled=false", "Session\\MaxActiveCheckingTorrents=2"],
      });
      return qb.service;
    },
    async add(torrents) {
      for (let i = 0; i < torrents.length; i += 200) {
        const form = new FormData();
        for (const t of torrents.slice(i, i + 200)) form.append("torrents", new Blob([t.bytes]), `${t.name}.torrent`);
        form.append("savepath", dataDir);
        // qBittorrent checks a torrent in about a second however small (two at a time): 10,000 would take
        // hours. It is told the data is good instead; btpeer and Transmission check theirs.
        form.append("skip_checking", "true");
        const res = await api("torrents/add", { method: "POST", body: form });
        if (!res.ok) throw new Error(`qbittorrent-nox add: HTTP ${res.status}`);
      }
    },
    async seeding() {
      const list = (await (await api("torrents/info?filter=seeding")).json()) as unknown[];
      return list.length;
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
        graceMs: 60_000,
      });
      return service;
    },
    async add(torrents) {
      for (const t of torrents) await rpc("torrent-add", { metainfo: Buffer.from(t.bytes).toString("base64"), "download-dir": dataDir });
    },
    async seeding() {
      const args = await rpc("torrent-get", { fields: ["status"] });
      return (args.torrents as { status: number }[]).filter((t) => t.status === 6).length;
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
    async start() {
      service = await spawnService({
        name: "btpeer daemon",
        cmd: [
          ...binary,
          "daemon",
          "--port",
          String(freePort()),
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
        graceMs: 60_000,
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
    async seeding() {
      const list = (await (await api("/api/v1/torrents")).json()) as { state: string }[];
      return list.filter((t) => t.state === "seeding").length;
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
