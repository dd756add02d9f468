// The options `download` and `seed` both take (port, peers, limits, goals, DHT, encryption, --json): their
// parseArgs entries, their help lines and their reading into RunOptions, written once. Each command puts the
// help blocks in its own order among its own options.
import { bindOption, encryptionOption, goalOptions, intOption, rateOption } from "./command-args.ts";
import { dhtOption, parsePeerAddress, type RunOptions } from "./torrent-runner.ts";

export const SWARM_OPTIONS = {
  port: { type: "string", default: "6881" },
  bind: { type: "string" },
  peer: { type: "string", multiple: true },
  "max-peers": { type: "string", default: "50" },
  "upload-limit": { type: "string" },
  "download-limit": { type: "string" },
  "ratio-limit": { type: "string" },
  "seed-time-limit": { type: "string" },
  "dht-bootstrap": { type: "string", multiple: true },
  "dht-state": { type: "string" },
  "no-dht": { type: "boolean" },
  encryption: { type: "string", default: "prefer" },
  json: { type: "boolean", default: false },
} as const;

/** The help lines of SWARM_OPTIONS, in blocks that each command places. */
export const SWARM_HELP = {
  listen: `  --port <n>           TCP port to accept peers on (default 6881; 0 = any free port)
  --bind <address>     listen on this local IP address only, and connect out from it
                       (default: listen on every interface)`,
  peer: `  --peer <host:port>   also connect to this peer (repeatable)`,
  maxPeers: `  --max-peers <n>      peer slots for this torrent (default 50); when they are full, a new peer
                       with something to trade replaces one with nothing to trade`,
  limits: `  --upload-limit <r>   cap on what this peer sends, all peers together, in bytes per second:
                       500K, 50M, 1G (binary units); default none
  --download-limit <r> cap on what this peer receives, all peers together, in bytes per second
                       (same units); requests are paced so that peers never send more
  --ratio-limit <r>    stop seeding once uploaded ÷ downloaded reaches r (e.g. 2; with nothing
                       downloaded, uploaded ÷ the data's size)
  --seed-time-limit <s> stop seeding after s seconds of seeding`,
  dht: `  --dht-bootstrap <host:port>
                       a DHT node to join through (repeatable; default: router.bittorrent.com:6881,
                       dht.transmissionbt.com:6881 and router.utorrent.com:6881, looked up only if no
                       node saved with --dht-state answers)
  --dht-state <file>   keep the DHT's routing table in this file: read at start (its nodes are asked
                       first, no router needed when they answer), written after joining and at the end
  --no-dht             no DHT (BEP 5): peers only from trackers and --peer; private torrents never use it`,
  encryption: `  --encryption <p>     MSE/PE protocol encryption: prefer (default: accept both; connect with
                       MSE first, plain BitTorrent if the peer refuses it), require (MSE with an
                       RC4 payload only, both ways), disable (plain BitTorrent only)`,
  json: `  --json               one JSON event per line instead of the live progress line`,
};

type SwarmValues = {
  port: string;
  bind?: string;
  peer?: string[];
  "max-peers": string;
  "upload-limit"?: string;
  "download-limit"?: string;
  "ratio-limit"?: string;
  "seed-time-limit"?: string;
  "dht-bootstrap"?: string[];
  "dht-state"?: string;
  "no-dht"?: boolean;
  encryption: string;
  json: boolean;
};

export type SwarmSettings = Pick<
  RunOptions,
  "port" | "bind" | "peers" | "maxPeers" | "uploadLimit" | "downloadLimit" | "encryption" | "goals" | "json" | "dht"
>;

/** Reads SWARM_OPTIONS' values; a bad one throws CliError("usage") naming it. */
export function swarmSettings(values: SwarmValues): SwarmSettings {
  return {
    port: intOption("--port", values.port, 0, 65535),
    bind: bindOption(values.bind),
    peers: (values.peer ?? []).map(parsePeerAddress),
    maxPeers: intOption("--max-peers", values["max-peers"], 1, 10_000),
    uploadLimit: rateOption("--upload-limit", values["upload-limit"]),
    encryption: encryptionOption(values.encryption),
    downloadLimit: rateOption("--download-limit", values["download-limit"]),
    goals: goalOptions(values["ratio-limit"], values["seed-time-limit"]),
    json: values.json,
    dht: dhtOption(values),
  };
}
