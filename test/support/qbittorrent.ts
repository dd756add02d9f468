// A real qBittorrent (qbittorrent-nox) on loopback, with its own profile directory: the legal notice
// accepted, DHT, local peer discovery, PEX and UPnP off, peers and the Web UI bound to 127.0.0.1 (the
// Web UI without a login from localhost, which is how the test reads the torrent's state).
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "./ports.ts";
import { spawnService, type Service } from "./processes.ts";

export interface QbittorrentPeer {
  service: Service;
  port: number;
  webUi: string;
  /** The torrent's state from the Web API (`progress` 0..1, `state`, ...), undefined before it is added. */
  torrent(): Promise<{ progress: number; state: string } | undefined>;
  /** Resolves once the torrent is complete and checked. */
  finished(timeoutMs?: number): Promise<void>;
  stop(): Promise<number>;
}

/** qBittorrent's stored form of a Web UI password: PBKDF2-HMAC-SHA512, 100,000 rounds, 16-byte salt. */
function pbkdf2Password(password: string): string {
  const salt = randomBytes(16);
  const key = pbkdf2Sync(password, salt, 100_000, 64, "sha512");
  return `@ByteArray(${salt.toString("base64")}:${key.toString("base64")})`;
}

export interface QbittorrentOptions {
  /** A .torrent to add at start (none: start empty). */
  torrent?: string;
  dir: string;
  profileDir: string;
  name?: string;
  /** Require a login (user "admin" with this password) even from localhost; default: no login from localhost. */
  password?: string;
  /** More lines for the [BitTorrent] section, e.g. "Session\\QueueingSystemEnabled=false". */
  bittorrent?: string[];
  /** Between SIGTERM and SIGKILL on stop (default 5 s): with thousands of torrents qBittorrent writes
   *  their resume data as it exits, and a kill before it is done loses the torrents not yet written. */
  graceMs?: number;
}

export async function startQbittorrent(options: QbittorrentOptions): Promise<QbittorrentPeer> {
  const port = freePort();
  const webPort = freePort();
  const name = options.name ?? "qbittorrent-nox";
  const configDir = path.join(options.profileDir, "qBittorrent", "config");
  mkdirSync(configDir, { recursive: true });
  mkdirSync(options.dir, { recursive: true });
  const conf = [
    "[LegalNotice]",
    "Accepted=true",
    "",
    "[BitTorrent]",
    "Session\\DHTEnabled=false",
    "Session\\LSDEnabled=false",
    "Session\\PeXEnabled=false",
    `Session\\Port=${port}`,
    "Session\\Interface=lo",
    "Session\\InterfaceName=lo",
    "Session\\InterfaceAddress=127.0.0.1",
    "Session\\MultiConnectionsPerIp=true",
    "Session\\AnnounceToAllTrackers=true",
    "Session\\GlobalMaxRatio=-1",
    ...(options.bittorrent ?? []),
    "",
    "[Preferences]",
    "Connection\\UPnP=false",
    `WebUI\\Port=${webPort}`,
    "WebUI\\Address=127.0.0.1",
    ...(options.password
      ? ["WebUI\\LocalHostAuth=true", "WebUI\\Username=admin", `WebUI\\Password_PBKDF2="${pbkdf2Password(options.password)}"`]
      : ["WebUI\\LocalHostAuth=false"]),
    "WebUI\\CSRFProtection=false",
    "WebUI\\HostHeaderValidation=false",
    "",
  ].join("\n");
  writeFileSync(path.join(configDir, "qBittorrent.conf"), conf);
  const webUi = `http://127.0.0.1:${webPort}`;
  const service = await spawnService({
    name,
    cmd: [
      "qbittorrent-nox",
      `--profile=${options.profileDir}`,
      `--webui-port=${webPort}`,
      `--save-path=${options.dir}`,
      "--skip-dialog=true",
      ...(options.torrent ? [options.torrent] : []),
    ],
    env: { HOME: options.profileDir, XDG_CONFIG_HOME: path.join(options.profileDir, ".config"), XDG_DATA_HOME: path.join(options.profileDir, ".local") },
    // With a password the API answers 403 until a login, so readiness is the port alone.
    ready: options.password ? { port: webPort } : { url: `${webUi}/api/v2/app/version` },
    readyTimeoutMs: 60_000,
    graceMs: options.graceMs ?? 5000,
  });
  const torrent = async () => {
    const res = await fetch(`${webUi}/api/v2/torrents/info`);
    const list = (await res.json()) as Array<{ progress: number; state: string }>;
    return list[0];
  };
  return {
    service,
    port,
    webUi,
    torrent,
    async finished(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const t = await torrent();
        // uploading/stalledUP/... : complete and checked, now seeding.
        if (t && t.progress === 1 && /UP$|^uploading$/.test(t.state)) return;
        if (service.hasExited) throw new Error(`${name} exited before finishing\n${service.output()}`);
        if (Date.now() > deadline)
          throw new Error(`${name} did not finish within ${timeoutMs} ms (safety deadline); last state ${JSON.stringify(t)}\n${service.output()}`);
        await Bun.sleep(250);
      }
    },
    stop: () => service.stop(),
  };
}
