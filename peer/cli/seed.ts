// btpeer seed <file.torrent> --dir <dir> [--port <n>] [--bind <address>] [--upload-limit <rate>] [--download-limit <rate>]
//             [--ratio-limit <r>] [--seed-time-limit <s>]
//             [--dht-bootstrap <host:port>]... [--dht-state <file>] [--no-dht]
//             [--encryption prefer|require|disable] [--json]
import { runCommand } from "./command-args.ts";
import { SWARM_HELP, SWARM_OPTIONS, swarmSettings } from "./swarm-options.ts";
import { CliError, runTorrent } from "./torrent-runner.ts";

const HELP = `usage: btpeer seed <file.torrent> --dir <dir> [options]

Verifies the data in <dir> (in parallel over the cores) and serves it until interrupted (Ctrl-C).

options:
  --dir <dir>          where the torrent's files are (required)
${SWARM_HELP.listen}
${SWARM_HELP.peer}
${SWARM_HELP.maxPeers}
${SWARM_HELP.limits}
${SWARM_HELP.dht}
${SWARM_HELP.encryption}
${SWARM_HELP.json}`;

const OPTIONS = { ...SWARM_OPTIONS, dir: { type: "string" } } as const;

export function run(argv: string[]): Promise<number> {
  return runCommand("seed", HELP, argv, OPTIONS, (values, positionals) => {
    if (positionals.length !== 1) throw new CliError("usage", "give exactly one .torrent file");
    if (!values.dir) throw new CliError("usage", "--dir <dir> is required");
    return runTorrent({
      ...swarmSettings(values),
      torrentPath: positionals[0]!,
      dir: values.dir,
      seed: true,
      poolMiB: 1,
      requireComplete: true,
    });
  });
}
