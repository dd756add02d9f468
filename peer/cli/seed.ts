// btpeer seed <file.torrent> --dir <dir> [--port <n>] [--bind <address>] [--upload-limit <rate>] [--download-limit <rate>]
//             [--ratio-limit <r>] [--seed-time-limit <s>]
//             [--dht-bootstrap <host:port>]... [--dht-state <file>] [--no-dht]
//             [--encryption prefer|require|disable] [--json]
import { bindOption, encryptionOption, goalOptions, intOption, rateOption, runCommand } from "./command-args.ts";
import { CliError, dhtOption, parsePeerAddress, runTorrent } from "./torrent-runner.ts";

const HELP = `usage: btpeer seed <file.torrent> --dir <dir> [options]

Verifies the data in <dir> (in parallel over the cores) and serves it until interrupted (Ctrl-C).

options:
  --dir <dir>          where the torrent's files are (required)
  --port <n>           TCP port to accept peers on (default 6881; 0 = any free port)
  --bind <address>     listen on this local IP address only, and connect out from it
                       (default: listen on every interface)
  --peer <host:port>   also connect to this peer (repeatable)
  --max-peers <n>      peer slots for this torrent (default 50); when they are full, a new peer
                       with something to trade replaces one with nothing to trade
  --upload-limit <r>   cap on what this peer sends, all peers together, in bytes per second:
                       500K, 50M, 1G (binary units); default none
  --download-limit <r> cap on what this peer receives, all peers together, in bytes per second
                       (same units); requests are paced so that peers never send more
  --ratio-limit <r>    stop seeding once uploaded ÷ downloaded reaches r (e.g. 2; with nothing
                       downloaded, uploaded ÷ the data's size)
  --seed-time-limit <s> stop seeding after s seconds of seeding
  --dht-bootstrap <host:port>
                       a DHT node to join through (repeatable; default: router.bittorrent.com:6881,
                       dht.transmissionbt.com:6881 and router.utorrent.com:6881, looked up only if no
                       node saved with --dht-state answers)
  --dht-state <file>   keep the DHT's routing table in this file: read at start (its nodes are asked
                       first, no router needed when they answer), written after joining and at the end
  --no-dht             no DHT (BEP 5): peers only from trackers and --peer; private torrents never use it
  --encryption <p>     MSE/PE protocol encryption: prefer (default: accept both; connect with
                       MSE first, plain BitTorrent if the peer refuses it), require (MSE with an
                       RC4 payload only, both ways), disable (plain BitTorrent only)
  --json               one JSON event per line instead of the live progress line`;

const OPTIONS = {
  dir: { type: "string" },
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

export function run(argv: string[]): Promise<number> {
  return runCommand("seed", HELP, argv, OPTIONS, (values, positionals) => {
    if (positionals.length !== 1) throw new CliError("usage", "give exactly one .torrent file");
    if (!values.dir) throw new CliError("usage", "--dir <dir> is required");
    return runTorrent({
      torrentPath: positionals[0]!,
      dir: values.dir,
      port: intOption("--port", values.port, 0, 65535),
      bind: bindOption(values.bind),
      seed: true,
      peers: (values.peer ?? []).map(parsePeerAddress),
      poolMiB: 1,
      maxPeers: intOption("--max-peers", values["max-peers"], 1, 10_000),
      uploadLimit: rateOption("--upload-limit", values["upload-limit"]),
      encryption: encryptionOption(values.encryption),
      downloadLimit: rateOption("--download-limit", values["download-limit"]),
      goals: goalOptions(values["ratio-limit"], values["seed-time-limit"]),
      json: values.json,
      dht: dhtOption(values),
      requireComplete: true,
    });
  });
}
