// btpeer download <file.torrent | magnet-uri> --out <dir> [--port <n>] [--bind <address>] [--seed | --no-seed] [--peer <host:port>]...
//                 [--pool <MiB>] [--max-peers <n>] [--upload-limit <rate>] [--download-limit <rate>]
//                 [--only <i,j> | --skip <i,j>] [--sequential] [--ratio-limit <r>] [--seed-time-limit <s>]
//                 [--dht-bootstrap <host:port>]... [--dht-state <file>] [--no-dht]
//                 [--encryption prefer|require|disable] [--save-torrent <file>] [--json]
import { isMagnet } from "../../shared/magnet.ts";
import { bindOption, encryptionOption, goalOptions, intOption, rateOption, runCommand } from "./command-args.ts";
import { runMagnet } from "./magnet-runner.ts";
import { CliError, dhtOption, parseFileIndices, parsePeerAddress, runTorrent, type FileSelection } from "./torrent-runner.ts";

const HELP = `usage: btpeer download <file.torrent | magnet-uri> --out <dir> [options]

Downloads into <dir> (files laid out as the torrent says), verifying every piece; data already in <dir>
is checked and reused. By default it then stays on as a seeder until interrupted (Ctrl-C).

A magnet link ('magnet:?xt=urn:btih:<hex or base32>&tr=<tracker>&x.pe=<host:port>', quoted for the shell)
first fetches the torrent's metadata from peers (BEP 9, over the extension protocol of BEP 10): from the
link's trackers (tr=, HTTP or UDP), its peers (x.pe=), --peer and the DHT. The metadata is checked against
the info hash before it is used; then the download goes on as for a .torrent, with the same peers.

options:
  --out <dir>          where the files go (required)
  --port <n>           TCP port to accept peers on (default 6881; 0 = any free port)
  --bind <address>     listen on this local IP address only, and connect out from it
                       (default: listen on every interface)
  --seed / --no-seed   keep seeding once complete (default) / exit 0 once complete and verified
  --peer <host:port>   also connect to this peer (repeatable)
  --pool <MiB>         piece buffer pool size (default 64)
  --max-peers <n>      peer slots for this torrent (default 50); when they are full, a new peer
                       with something to trade replaces one with nothing to trade
  --upload-limit <r>   cap on what this peer sends, all peers together, in bytes per second:
                       500K, 50M, 1G (binary units); default none
  --download-limit <r> cap on what this peer receives, all peers together, in bytes per second
                       (same units); requests are paced so that peers never send more
  --ratio-limit <r>    stop seeding once uploaded ÷ downloaded reaches r (e.g. 2; with nothing
                       downloaded, uploaded ÷ the data's size)
  --seed-time-limit <s> stop seeding after s seconds of seeding
  --only <i,j,...>     fetch only these files (indices as \`btpeer info\` lists them, from 0); the
                       others are not created; pieces they share with a wanted file are fetched
  --skip <i,j,...>     fetch every file but these
  --sequential         fetch pieces in order, first to last (for playing while downloading)
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
  --save-torrent <f>   magnet links: write the .torrent made from the fetched metadata (and the
                       link's trackers) to <f>
  --json               one JSON event per line instead of the live progress line`;

const OPTIONS = {
  out: { type: "string" },
  port: { type: "string", default: "6881" },
  bind: { type: "string" },
  seed: { type: "boolean" },
  "no-seed": { type: "boolean" },
  peer: { type: "string", multiple: true },
  pool: { type: "string", default: "64" },
  "max-peers": { type: "string", default: "50" },
  "upload-limit": { type: "string" },
  "download-limit": { type: "string" },
  "ratio-limit": { type: "string" },
  "seed-time-limit": { type: "string" },
  only: { type: "string" },
  skip: { type: "string" },
  sequential: { type: "boolean", default: false },
  "dht-bootstrap": { type: "string", multiple: true },
  "dht-state": { type: "string" },
  "no-dht": { type: "boolean" },
  encryption: { type: "string", default: "prefer" },
  "save-torrent": { type: "string" },
  json: { type: "boolean", default: false },
} as const;

export function run(argv: string[]): Promise<number> {
  return runCommand("download", HELP, argv, OPTIONS, (values, positionals) => {
    if (positionals.length !== 1) throw new CliError("usage", "give exactly one .torrent file or magnet link");
    if (!values.out) throw new CliError("usage", "--out <dir> is required");
    if (values.seed && values["no-seed"]) throw new CliError("usage", "--seed and --no-seed contradict each other");
    if (values.only !== undefined && values.skip !== undefined) throw new CliError("usage", "--only and --skip contradict each other: give one");
    let files: FileSelection | undefined;
    if (values.only !== undefined) files = { only: parseFileIndices("--only", values.only) };
    if (values.skip !== undefined) files = { skip: parseFileIndices("--skip", values.skip) };
    const source = positionals[0]!;
    const magnet = isMagnet(source);
    if (!magnet && values["save-torrent"] !== undefined) throw new CliError("usage", "--save-torrent is for magnet links (a .torrent is already a .torrent)");
    const common = {
      torrentPath: source,
      dir: values.out,
      port: intOption("--port", values.port, 0, 65535),
      bind: bindOption(values.bind),
      seed: !values["no-seed"],
      peers: (values.peer ?? []).map(parsePeerAddress),
      poolMiB: intOption("--pool", values.pool, 1, 1 << 20),
      maxPeers: intOption("--max-peers", values["max-peers"], 1, 10_000),
      uploadLimit: rateOption("--upload-limit", values["upload-limit"]),
      encryption: encryptionOption(values.encryption),
      downloadLimit: rateOption("--download-limit", values["download-limit"]),
      goals: goalOptions(values["ratio-limit"], values["seed-time-limit"]),
      files,
      sequential: values.sequential,
      json: values.json,
      dht: dhtOption(values),
    };
    return magnet ? runMagnet({ ...common, saveTorrent: values["save-torrent"] }) : runTorrent({ ...common, requireComplete: false });
  });
}
