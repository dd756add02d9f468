// btpeer remote <command>: drives a running `btpeer daemon` through its HTTP API.
import * as fs from "node:fs";
import * as path from "node:path";
import { isMagnet } from "../../shared/magnet.ts";
import { loadToken, TOKEN_FILE, TokenError } from "../daemon/api-token.ts";
import type { DaemonStats, GlobalLimits, TorrentDetail, TorrentSummary } from "../daemon/control.ts";
import type { DaemonSettings } from "../daemon/daemon-settings.ts";
import { intOption, rateOption, runCommand } from "./command-args.ts";
import { defaultStateDir } from "./daemon.ts";
import { RemoteApi, RemoteError, type RemoteToken } from "./remote-client.ts";
import { limitsText, settingsText, statsText, torrentDetail, torrentTable } from "./remote-format.ts";
import { CliError } from "./torrent-runner.ts";

export const DEFAULT_API = "http://127.0.0.1:9080";

const HELP = `usage: btpeer remote <command> [arguments] [options]

Drives a running \`btpeer daemon\` through its HTTP API.

commands:
  list                          the torrents: name, state, progress, size, rates, peers, ratio, ETA
  add <file.torrent | magnet | URL>
                                add a torrent (options below); the daemon fetches a URL itself
  info <hash>                   one torrent: files, trackers, limits
  pause | resume | recheck | reannounce <hash>
  remove <hash> [--delete-data] forget a torrent; --delete-data also deletes its files
  stats                         the daemon's rates, totals, peers and limits
  limits [--upload-limit R] [--download-limit R] [--max-peers N]
                                show the global limits, or change them (0 = no limit)
  settings [--announce-to-all-tiers on|off] [--announce-to-all-trackers on|off]
                                show the daemon's settings, or change them (kept across restarts):
                                announce to every tier of a torrent on its own (default on; off:
                                BEP 12, the next tier only when the ones before failed), and to every
                                tracker within a tier (default off)
<hash> is the info hash, or a prefix of at least 4 hex digits naming one torrent.

options:
  --api URL             the daemon's API (default ${DEFAULT_API})
  --token TOKEN         the API token (default: $BTPEER_TOKEN, else <state dir>/${TOKEN_FILE})
  --state-dir DIR       the daemon's state dir, where its token is (default ${defaultStateDir()})
  --json                print the API's JSON instead of text
add options:
  --save-path DIR  --paused  --sequential  --skip 0,3  (file indices not to download)
  --upload-limit R  --download-limit R  (bytes/s: 500K, 4M)  --max-peers N`;

const OPTIONS = {
  api: { type: "string" },
  token: { type: "string" },
  "state-dir": { type: "string" },
  json: { type: "boolean" },
  "delete-data": { type: "boolean" },
  "save-path": { type: "string" },
  paused: { type: "boolean" },
  sequential: { type: "boolean" },
  skip: { type: "string" },
  "upload-limit": { type: "string" },
  "download-limit": { type: "string" },
  "max-peers": { type: "string" },
  "announce-to-all-tiers": { type: "string" },
  "announce-to-all-trackers": { type: "string" },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

export function run(argv: string[]): Promise<number> {
  return runCommand("remote", HELP, argv, OPTIONS, async (values, positionals) => {
    const [command, ...args] = positionals;
    if (!command) throw new CliError("usage", "name a command");
    try {
      const api = new RemoteApi(values.api ?? DEFAULT_API, findToken(values));
      const out = await execute(api, command, args, values);
      console.log(values.json ? JSON.stringify(out.json, null, 2) : out.text);
      return 0;
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      console.error(`btpeer remote ${command}: ${error.message}`);
      return 1;
    }
  });
}

async function execute(api: RemoteApi, command: string, args: string[], values: Values): Promise<{ json: unknown; text: string }> {
  const one = async () => {
    if (args.length !== 1) throw new CliError("usage", `${command} takes one info hash`);
    return resolveHash(api, args[0]!);
  };
  switch (command) {
    case "list": {
      const torrents = await api.call<TorrentSummary[]>("GET", "/api/v1/torrents");
      return { json: torrents, text: torrentTable(torrents) };
    }
    case "info": {
      const torrent = await api.call<TorrentDetail>("GET", `/api/v1/torrents/${await one()}`);
      return { json: torrent, text: torrentDetail(torrent) };
    }
    case "pause":
    case "resume":
    case "recheck":
    case "reannounce": {
      const torrent = await api.call<TorrentDetail>("POST", `/api/v1/torrents/${await one()}/${command}`);
      return { json: torrent, text: `${torrent.name}: ${command === "reannounce" ? "announced; " : ""}${torrent.state}` };
    }
    case "remove": {
      const infoHash = await one();
      await api.call("DELETE", `/api/v1/torrents/${infoHash}?deleteData=${values["delete-data"] ? "true" : "false"}`);
      return { json: { infoHash, removed: true }, text: `removed ${infoHash}${values["delete-data"] ? " and its files" : ""}` };
    }
    case "add":
      return add(api, args, values);
    case "stats": {
      const stats = await api.call<DaemonStats>("GET", "/api/v1/stats");
      return { json: stats, text: statsText(stats) };
    }
    case "limits": {
      const change = limitChange(values);
      const limits =
        Object.keys(change).length === 0
          ? await api.call<GlobalLimits>("GET", "/api/v1/limits")
          : await api.call<GlobalLimits>("PATCH", "/api/v1/limits", { json: change });
      return { json: limits, text: limitsText(limits) };
    }
    case "settings": {
      const change = settingsChange(values);
      const settings =
        Object.keys(change).length === 0
          ? await api.call<DaemonSettings>("GET", "/api/v1/settings")
          : await api.call<DaemonSettings>("PATCH", "/api/v1/settings", { json: change });
      return { json: settings, text: settingsText(settings) };
    }
    default:
      throw new CliError("usage", `unknown command "${command}"`);
  }
}

async function add(api: RemoteApi, args: string[], values: Values): Promise<{ json: unknown; text: string }> {
  if (args.length !== 1) throw new CliError("usage", "add takes one .torrent file, magnet link or URL of a .torrent");
  const options: Record<string, string> = {};
  if (values["save-path"] !== undefined) options.savePath = path.resolve(values["save-path"]);
  if (values.paused) options.paused = "true";
  if (values.sequential) options.sequential = "true";
  if (values.skip !== undefined) options.skip = values.skip;
  for (const [name, value] of Object.entries(limitChange(values))) options[name] = String(value);
  const input = args[0]!;
  let reply: { infoHash: string };
  if (isMagnet(input)) reply = await api.call("POST", "/api/v1/torrents", { json: { magnet: input, ...options } });
  else if (/^https?:\/\//i.test(input)) reply = await api.call("POST", "/api/v1/torrents", { json: { url: input, ...options } });
  else {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(input);
    } catch (error) {
      throw new CliError("usage", `cannot read ${input}: ${(error as Error).message}`);
    }
    const query = new URLSearchParams(options).toString();
    reply = await api.call("POST", `/api/v1/torrents${query ? `?${query}` : ""}`, { bytes, type: "application/x-bittorrent" });
  }
  return { json: reply, text: `added ${reply.infoHash}` };
}

/** --upload-limit, --download-limit (0: none) and --max-peers, as the API's fields. */
function limitChange(values: Values): Partial<GlobalLimits> {
  const change: Partial<GlobalLimits> = {};
  if (values["upload-limit"] !== undefined) change.uploadLimit = rateOption("--upload-limit", values["upload-limit"]) ?? null;
  if (values["download-limit"] !== undefined) change.downloadLimit = rateOption("--download-limit", values["download-limit"]) ?? null;
  if (values["max-peers"] !== undefined) change.maxPeers = intOption("--max-peers", values["max-peers"], 1, 65_535);
  return change;
}

/** --announce-to-all-tiers and --announce-to-all-trackers (on|off), as the API's fields. */
function settingsChange(values: Values): Partial<DaemonSettings> {
  const change: Partial<DaemonSettings> = {};
  const onOff = (name: string, text: string) => {
    if (text === "on" || text === "off") return text === "on";
    throw new CliError("usage", `--${name} wants on or off, got "${text}"`);
  };
  if (values["announce-to-all-tiers"] !== undefined) change.announceToAllTiers = onOff("announce-to-all-tiers", values["announce-to-all-tiers"]);
  if (values["announce-to-all-trackers"] !== undefined) change.announceToAllTrackers = onOff("announce-to-all-trackers", values["announce-to-all-trackers"]);
  return change;
}

/** A full info hash as it is; a prefix of 4 or more hex digits when it names exactly one torrent. */
async function resolveHash(api: RemoteApi, text: string): Promise<string> {
  if (/^[0-9a-f]{40}$/i.test(text)) return text.toLowerCase();
  if (!/^[0-9a-f]{4,39}$/i.test(text)) throw new CliError("usage", `"${text}" is not an info hash (40 hex digits, or a prefix of at least 4)`);
  const prefix = text.toLowerCase();
  const matches = (await api.call<TorrentSummary[]>("GET", "/api/v1/torrents")).filter((t) => t.infoHash.startsWith(prefix));
  if (matches.length === 1) return matches[0]!.infoHash;
  throw new RemoteError(
    "api",
    matches.length === 0 ? `no torrent's info hash starts with ${prefix}` : `${prefix} names ${matches.length} torrents; give more digits`,
  );
}

/** --token, else BTPEER_TOKEN, else the daemon's token file. */
function findToken(values: Values): RemoteToken {
  const file = path.join(values["state-dir"] ?? defaultStateDir(), TOKEN_FILE);
  if (values.token) return { token: values.token, source: "--token", file };
  if (process.env.BTPEER_TOKEN) return { token: process.env.BTPEER_TOKEN, source: "BTPEER_TOKEN", file };
  if (!fs.existsSync(file)) {
    throw new RemoteError(
      "no-token",
      `no API token: ${file} does not exist. Pass --token or set BTPEER_TOKEN (the daemon prints its token when it creates it), ` +
        "or give --state-dir if the daemon runs with another state dir",
    );
  }
  try {
    return { token: loadToken(file), source: file, file };
  } catch (error) {
    if (error instanceof TokenError) throw new RemoteError("no-token", error.message);
    throw error;
  }
}
