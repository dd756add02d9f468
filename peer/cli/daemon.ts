// btpeer daemon [--port <n>] [--bind <address>] [--api <host:port>] [--state-dir <dir>] [--download-dir <dir>]
//               [--watch <dir>] [--max-peers <n>] [--encryption prefer|require|disable]
//               [--upload-limit <rate>] [--download-limit <rate>] [--dht-bootstrap <host:port>]... [--no-dht]
//               [--no-direct-io] [--json]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadOrCreateToken, TokenError } from "../daemon/api-token.ts";
import { DEFAULT_API_ADDRESS, openApi, parseApiAddress } from "../daemon/api/listen.ts";
import type { ApiServer } from "../daemon/api/server.ts";
import { Daemon } from "../daemon/service.ts";
import { StateError } from "../daemon/state-errors.ts";
import { WatchFolder } from "../daemon/watch-folder.ts";
import { ListenError } from "../net/sockets.ts";
import { exitCodeFor } from "../torrent/exit-codes.ts";
import { bindOption, encryptionOption, intOption, rateOption, runCommand } from "./command-args.ts";
import { setDirectWrites } from "../storage/direct-writes.ts";
import { daemonReporter } from "./daemon-progress.ts";
import { CliError, dhtOption } from "./torrent-runner.ts";

const HELP = `usage: btpeer daemon [options]

Runs every torrent of its state dir on one peer port until SIGTERM or SIGINT (Ctrl-C), which announce
\`stopped\`, save the resume data and exit 0. Torrents come and go through the watch folder (and the API);
the state dir remembers them, with what was verified, across restarts: after a crash only files that
changed since the last save are hashed again.

options:
  --port <n>            TCP port peers reach every torrent on (default 6881; 0 = any free port)
  --bind <address>      listen on this local IP address only, and connect out from it
  --api <host:port>     the HTTP API and /metrics (default ${DEFAULT_API_ADDRESS}; port 0: any free one).
                        Every request needs the token kept in <state-dir>/api-token
  --state-dir <dir>     where the torrent list, resume data and API token live
                        (default $XDG_STATE_HOME/btpeer, else ~/.local/state/btpeer)
  --download-dir <dir>  where torrents are saved (default $XDG_DOWNLOAD_DIR, else ~/Downloads)
  --watch <dir>         add every .torrent dropped here; it is renamed <name>.added (also when that
                        torrent was already added), or <name>.invalid with the reason in the log
  --max-peers <n>       peer connections across all torrents (default 200)
  --encryption <p>      MSE/PE protocol encryption, as for download: prefer (default), require, disable
  --upload-limit <r>    cap on what all torrents together send, in bytes per second: 500K, 50M, 1G
                        (binary units); default none
  --download-limit <r>  cap on what all torrents together receive, likewise; default none
  --dht-bootstrap <host:port>
                        a DHT node to join through (repeatable; default: router.bittorrent.com:6881,
                        dht.transmissionbt.com:6881 and router.utorrent.com:6881), asked only if no
                        node of the routing table saved in the state dir answers
  --no-dht              no DHT (BEP 5): peers only from trackers; private torrents never use it
  --no-direct-io        write verified pieces through the page cache; by default (Linux) their
                        page-aligned bytes go to disk with O_DIRECT, skipping the kernel's copy
  --json                one JSON event per line (each torrent's events carry its infoHash)
                        instead of the live status line

To start fresh, stop the daemon and move the state dir away; downloaded files are not touched.`;

const OPTIONS = {
  port: { type: "string", default: "6881" },
  bind: { type: "string" },
  api: { type: "string", default: DEFAULT_API_ADDRESS },
  "state-dir": { type: "string" },
  "download-dir": { type: "string" },
  watch: { type: "string" },
  "max-peers": { type: "string", default: "200" },
  encryption: { type: "string", default: "prefer" },
  "upload-limit": { type: "string" },
  "download-limit": { type: "string" },
  "dht-bootstrap": { type: "string", multiple: true },
  "no-dht": { type: "boolean" },
  "no-direct-io": { type: "boolean" },
  json: { type: "boolean", default: false },
} as const;

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_STATE_HOME ? path.join(env.XDG_STATE_HOME, "btpeer") : path.join(os.homedir(), ".local", "state", "btpeer");
}

export function defaultDownloadDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_DOWNLOAD_DIR || path.join(os.homedir(), "Downloads");
}

export function run(argv: string[]): Promise<number> {
  return runCommand("daemon", HELP, argv, OPTIONS, async (values, positionals) => {
    if (positionals.length > 0) throw new CliError("usage", `unexpected argument "${positionals[0]}" (torrents are added through --watch or the API)`);
    const stateDir = path.resolve(values["state-dir"] ?? defaultStateDir());
    const downloadDir = path.resolve(values["download-dir"] ?? defaultDownloadDir());
    const dht = dhtOption(values);
    if (values["no-direct-io"]) setDirectWrites(false);
    const apiAddress = parseApiAddress(values.api);
    if (!apiAddress) throw new CliError("usage", `--api wants host:port such as 127.0.0.1:9080 or [::1]:9080, got "${values.api}"`);
    const report = daemonReporter(values.json);
    // Listening for the signals before anything starts: one that comes during start-up ends the run once
    // it is up, cleanly, rather than killing the process half-way.
    let onSignal = () => {};
    const signalled = new Promise<void>((resolve) => (onSignal = resolve));
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const unlisten = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
    const uploadLimit = rateOption("--upload-limit", values["upload-limit"]) ?? null;
    const downloadLimit = rateOption("--download-limit", values["download-limit"]) ?? null;
    let daemon: Daemon;
    try {
      daemon = Daemon.open({
        stateDir,
        downloadDir,
        port: intOption("--port", values.port, 0, 65535),
        bind: bindOption(values.bind),
        maxPeers: intOption("--max-peers", values["max-peers"], 1, 100_000),
        encryption: encryptionOption(values.encryption),
        log: (line) => report.log(line),
      });
    } catch (error) {
      unlisten();
      if (error instanceof StateError) return report.fatal(error.message, 1);
      if (error instanceof ListenError) return report.fatal(error.message, exitCodeFor(error.code));
      throw error;
    }
    daemon.subscribe((event) => report.event(event, daemon));
    if (uploadLimit !== null || downloadLimit !== null) daemon.setLimits({ uploadLimit, downloadLimit });
    // The API answers once every stored torrent is in (as it did when they were all read at once).
    await daemon.loaded;
    // No API without a usable token (it guards every request), and no daemon without its API.
    let api: ApiServer;
    try {
      const token = loadOrCreateToken(stateDir);
      if (token.created) report.token(token.token, token.path);
      api = openApi(daemon, { ...apiAddress, token: token.token, stateDir, downloadDir, log: (line) => report.log(line) });
    } catch (error) {
      if (!(error instanceof TokenError) && !(error instanceof ListenError)) throw error;
      await daemon.close();
      unlisten();
      return report.fatal(error.message, error instanceof ListenError ? exitCodeFor(error.code) : 1);
    }
    // BTPEER_DHT_LOOPBACK_ONLY=1 (the tests' environment): never a packet or a DNS query off this machine.
    if (dht) await daemon.startDht({ bootstrap: dht.bootstrap, loopbackOnly: process.env.BTPEER_DHT_LOOPBACK_ONLY === "1" });
    const watch = values.watch ? new WatchFolder(path.resolve(values.watch), daemon, (outcome) => report.watch(outcome)) : null;
    try {
      if (watch) fs.mkdirSync(watch.dir, { recursive: true });
    } catch (error) {
      report.log(`cannot create the watch folder ${watch?.dir}: ${(error as Error).message}; it is looked for again at each poll`);
    }
    watch?.start();
    report.started(daemon, stateDir, downloadDir, watch?.dir ?? null, api.url);
    const ticker = setInterval(() => report.tick(daemon), 1_000);
    await signalled;
    clearInterval(ticker);
    await api.stop();
    await watch?.stop();
    await daemon.close();
    report.stopped();
    unlisten();
    return 0;
  });
}
