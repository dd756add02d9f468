// Tracker configuration from plain string variables (Workers `[vars]`, Deno.env, process.env).
// Every value is checked once at start-up, so a typo fails loudly instead of serving odd replies.
import { LOG_LEVELS, type LogLevel } from "./log.ts";

export interface TrackerConfig {
  /** Seconds between announces we ask clients for. */
  intervalSec: number;
  /** Up to this many seconds are added at random to each reply's interval, so clients spread out. */
  intervalSpreadSec: number;
  /** Clients must not announce more often than this (`min interval`). */
  minIntervalSec: number;
  /** Peers a client gets when it does not send `numwant`. */
  defaultNumwant: number;
  /** Upper bound on `numwant`, whatever the client asks for. */
  maxNumwant: number;
  /** A peer not heard from for this long is dropped. */
  peerTtlSec: number;
  /** Most info hashes answered in one scrape request. */
  maxScrapeHashes: number;
  /** A scrape without `info_hash` lists every torrent (off by default: it is costly and leaks the catalogue). */
  fullScrape: boolean;
  /** Only info hashes on the allowlist (kept in the store) are tracked. */
  privateMode: boolean;
  /** Header carrying the client address from a proxy we trust (e.g. "x-forwarded-for"); empty = trust none. */
  trustedProxyHeader: string;
  /** Honour the `ip` query parameter (off by default: anyone could enrol someone else's address). */
  trustIpParam: boolean;
  /** Longest raw query string accepted, in bytes. */
  maxQueryBytes: number;
  /** Embedded store only: most swarms (and `downloaded` histories) held; the least recently active go first. */
  maxSwarms: number;
  /** Embedded store only: most peers held over all swarms; the least recently active swarm's oldest peer goes first. */
  maxPeers: number;
  /** Lines below this level are not logged. */
  logLevel: LogLevel;
  /** UDP tracker (BEP 15) port on Bun and Deno: "http-port" = the HTTP port's number, 0 = no UDP. */
  udpPort: number | "http-port";
  /** 32 hex digits keying UDP connection ids, shared by instances behind one address; "" = random per process. */
  udpKey: string;
  /** Bearer token of the admin API (/admin/v1); "" = no admin API. A secret: never logged. */
  adminToken: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "bad-config";
}

export const DEFAULT_CONFIG: TrackerConfig = {
  intervalSec: 1800,
  intervalSpreadSec: 120,
  minIntervalSec: 900,
  defaultNumwant: 50,
  maxNumwant: 200,
  // A bit over two intervals (with spread): one lost announce does not drop a live peer.
  peerTtlSec: 2 * (1800 + 120) + 300,
  maxScrapeHashes: 64,
  fullScrape: false,
  privateMode: false,
  trustedProxyHeader: "",
  trustIpParam: false,
  maxQueryBytes: 4096,
  // At most about 50 MiB of swarms and 90 MiB of peers (540 and 310 bytes each, measured by
  // bench/tracker-memory.ts), plus as many `downloaded` histories as swarms.
  maxSwarms: 100_000,
  maxPeers: 300_000,
  logLevel: "info",
  udpPort: "http-port",
  udpKey: "",
  adminToken: "",
};

/** The variable names, as documented in the README and `wrangler.toml`. */
export const CONFIG_VARS = {
  intervalSec: "TRACKER_INTERVAL",
  intervalSpreadSec: "TRACKER_INTERVAL_SPREAD",
  minIntervalSec: "TRACKER_MIN_INTERVAL",
  defaultNumwant: "TRACKER_DEFAULT_NUMWANT",
  maxNumwant: "TRACKER_MAX_NUMWANT",
  peerTtlSec: "TRACKER_PEER_TTL",
  maxScrapeHashes: "TRACKER_MAX_SCRAPE",
  fullScrape: "TRACKER_FULL_SCRAPE",
  privateMode: "TRACKER_PRIVATE",
  trustedProxyHeader: "TRACKER_TRUSTED_PROXY_HEADER",
  trustIpParam: "TRACKER_TRUST_IP_PARAM",
  maxQueryBytes: "TRACKER_MAX_QUERY_BYTES",
  maxSwarms: "TRACKER_MAX_SWARMS",
  maxPeers: "TRACKER_MAX_PEERS",
  logLevel: "TRACKER_LOG_LEVEL",
  udpPort: "TRACKER_UDP_PORT",
  udpKey: "TRACKER_UDP_KEY",
  adminToken: "TRACKER_ADMIN_TOKEN",
} as const satisfies Record<keyof TrackerConfig, string>;

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function readLogLevel(env: Env, name: string, fallback: LogLevel): LogLevel {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  const level = LOG_LEVELS.find((l) => l === raw);
  if (!level) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}, got "${env[name]}"`);
  return level;
}

function readHeaderName(env: Env, name: string): string {
  const raw = env[name]?.trim().toLowerCase() ?? "";
  if (raw !== "" && !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(raw)) throw new ConfigError(`${name} must be an HTTP header name, got "${raw}"`);
  return raw;
}

function readUdpKey(env: Env, name: string): string {
  const raw = env[name]?.trim().toLowerCase() ?? "";
  if (raw !== "" && !/^[0-9a-f]{32}$/.test(raw)) throw new ConfigError(`${name} must be 32 hex digits (16 random bytes), got ${raw.length} characters`);
  return raw;
}

/** Long enough that guessing is hopeless; the message never repeats the value. */
function readAdminToken(env: Env, name: string): string {
  const raw = env[name]?.trim() ?? "";
  if (raw !== "" && !/^[\x21-\x7e]{16,512}$/.test(raw))
    throw new ConfigError(`${name} must be 16 to 512 printable characters without spaces, got ${raw.length} characters`);
  return raw;
}

export function loadConfig(env: Env): TrackerConfig {
  const v = CONFIG_VARS;
  const d = DEFAULT_CONFIG;
  const DAY = 86_400;
  const intervalSec = readInt(env, v.intervalSec, d.intervalSec, 1, DAY);
  const minIntervalSec = readInt(env, v.minIntervalSec, Math.min(d.minIntervalSec, intervalSec), 1, DAY);
  if (minIntervalSec > intervalSec) {
    throw new ConfigError(`${v.minIntervalSec} (${minIntervalSec}) must not exceed ${v.intervalSec} (${intervalSec})`);
  }
  const intervalSpreadSec = readInt(env, v.intervalSpreadSec, Math.min(d.intervalSpreadSec, Math.floor(intervalSec / 10)), 0, DAY);
  const maxNumwant = readInt(env, v.maxNumwant, d.maxNumwant, 1, 10_000);
  const defaultNumwant = readInt(env, v.defaultNumwant, Math.min(d.defaultNumwant, maxNumwant), 0, maxNumwant);
  const peerTtlSec = readInt(env, v.peerTtlSec, 2 * (intervalSec + intervalSpreadSec) + 300, 1, 30 * DAY);
  return {
    intervalSec,
    intervalSpreadSec,
    minIntervalSec,
    defaultNumwant,
    maxNumwant,
    peerTtlSec,
    maxScrapeHashes: readInt(env, v.maxScrapeHashes, d.maxScrapeHashes, 1, 10_000),
    fullScrape: readBool(env, v.fullScrape, d.fullScrape),
    privateMode: readBool(env, v.privateMode, d.privateMode),
    trustedProxyHeader: readHeaderName(env, v.trustedProxyHeader),
    trustIpParam: readBool(env, v.trustIpParam, d.trustIpParam),
    maxQueryBytes: readInt(env, v.maxQueryBytes, d.maxQueryBytes, 256, 1_000_000),
    maxSwarms: readInt(env, v.maxSwarms, d.maxSwarms, 1, 100_000_000),
    maxPeers: readInt(env, v.maxPeers, d.maxPeers, 1, 1_000_000_000),
    logLevel: readLogLevel(env, v.logLevel, d.logLevel),
    udpPort: env[v.udpPort]?.trim() ? readInt(env, v.udpPort, 0, 0, 65535) : d.udpPort,
    udpKey: readUdpKey(env, v.udpKey),
    adminToken: readAdminToken(env, v.adminToken),
  };
}
