// btpeer download <file.torrent | magnet-uri> --out <dir> [--port <n>] [--bind <address>] [--seed | --no-seed] [--peer <host:port>]...
//                 [--pool <MiB>] [--max-peers <n>] [--upload-limit <rate>] [--download-limit <rate>]
//                 [--only <i,j> | --skip <i,j>] [--sequential] [--ratio-limit <r>] [--seed-time-limit <s>]
//                 [--dht-bootstrap <host:port>]... [--dht-state <file>] [--no-dht]
//                 [--encryption prefer|require|disable] [--save-torrent <file>] [--no-direct-io] [--json]
import { isMagnet } from "../../shared/magnet.ts";
import { setDirectWrites } from "../storage/direct-writes.ts";
import { DIRECT_IO_HELP, intOption, runCommand } from "./command-args.ts";
import { runMagnet } from "./magnet-runner.ts";
import { SWARM_HELP, SWARM_OPTIONS, swarmSettings } from "./swarm-options.ts";
import { CliError, parseFileIndices, runTorrent, type FileSelection } from "./torrent-runner.ts";

const HELP = `usage: btpeer download <file.torrent | magnet-uri> --out <dir> [options]

Downloads into <dir> (files laid out as the torrent says), verifying every piece; data already in <dir>
is checked and reused. By default it then stays on as a seeder until interrupted (Ctrl-C).

A magnet link ('magnet:?xt=urn:btih:<hex or base32>&tr=<tracker>&x.pe=<host:port>', quoted for the shell)
first fetches the torrent's metadata from peers (BEP 9, over the extension protocol of BEP 10): from the
link's trackers (tr=, HTTP or UDP), its peers (x.pe=), --peer and the DHT. The metadata is checked against
the info hash before it is used; then the download goes on as for a .torrent, with the same peers.

options:
  --out <dir>          where the files go (required)
${SWARM_HELP.listen}
  --seed / --no-seed   keep seeding once complete (default) / exit 0 once complete and verified
${SWARM_HELP.peer}
  --pool <MiB>         piece buffer pool size (default 64)
${SWARM_HELP.maxPeers}
${SWARM_HELP.limits}
  --only <i,j,...>     fetch only these files (indices as \`btpeer info\` lists them, from 0); the
                       others are not created; pieces they share with a wanted file are fetched
  --skip <i,j,...>     fetch every file but these
  --sequential         fetch pieces in order, first to last (for playing while downloading)
${SWARM_HELP.dht}
${SWARM_HELP.encryption}
  --save-torrent <f>   magnet links: write the .torrent made from the fetched metadata (and the
                       link's trackers) to <f>
${DIRECT_IO_HELP}
${SWARM_HELP.json}`;

const OPTIONS = {
  ...SWARM_OPTIONS,
  out: { type: "string" },
  seed: { type: "boolean" },
  "no-seed": { type: "boolean" },
  pool: { type: "string", default: "64" },
  only: { type: "string" },
  skip: { type: "string" },
  sequential: { type: "boolean", default: false },
  "save-torrent": { type: "string" },
  "no-direct-io": { type: "boolean" },
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
    if (values["no-direct-io"]) setDirectWrites(false);
    const source = positionals[0]!;
    const magnet = isMagnet(source);
    if (!magnet && values["save-torrent"] !== undefined) throw new CliError("usage", "--save-torrent is for magnet links (a .torrent is already a .torrent)");
    const common = {
      ...swarmSettings(values),
      torrentPath: source,
      dir: values.out,
      seed: !values["no-seed"],
      poolMiB: intOption("--pool", values.pool, 1, 1 << 20),
      files,
      sequential: values.sequential,
    };
    return magnet ? runMagnet({ ...common, saveTorrent: values["save-torrent"] }) : runTorrent({ ...common, requireComplete: false });
  });
}
