// Transmission 3.00 as the daemon people run on servers (transmission-daemon), the torrent dropped into
// its watch folder, with the 64 MiB cache Transmission's own advice gives for fast links (the default
// is 4 MiB) and no speed or ratio limits. Its "torrent done" script leaves a file the bench waits for.
// Transmission never dials a loopback peer that a tracker names (127.0.0.0/8 is "martian" to it), so
// as a leecher it waits for the seeder to dial it.
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { spawnService } from "../../test/support/processes.ts";
import { loopbackSettings, TransmissionRpc } from "../../test/support/transmission.ts";
import { pollUntil, type BenchClient, type RunOptions } from "./adapter.ts";

export const TRANSMISSION_DAEMON = {
  label: "transmission-daemon",
  probe: () => Bun.which("transmission-daemon") !== null,
  install: "sudo apt-get install -y transmission-daemon",
};

async function start(o: RunOptions, role: "seed" | "leech") {
  const config = path.join(o.work, "transmission");
  const rpcPort = freePort();
  const watch = path.join(config, "watch");
  fs.mkdirSync(watch, { recursive: true });
  const doneFile = path.join(config, "done");
  const script = path.join(config, "on-done.sh");
  fs.writeFileSync(script, `#!/bin/sh\ntouch '${doneFile}'\n`, { mode: 0o755 });
  const settings = {
    ...loopbackSettings(o.port),
    "download-dir": o.dir,
    "incomplete-dir-enabled": false,
    "watch-dir": watch,
    "watch-dir-enabled": true,
    "start-added-torrents": true,
    "peer-port-random-on-start": false,
    "rpc-enabled": true,
    "rpc-bind-address": "127.0.0.1",
    "rpc-port": rpcPort,
    "cache-size-mb": 64,
    "idle-seeding-limit-enabled": false,
    "script-torrent-done-enabled": true,
    "script-torrent-done-filename": script,
  };
  fs.writeFileSync(path.join(config, "settings.json"), JSON.stringify(settings, null, 1));
  fs.copyFileSync(o.torrent, path.join(watch, path.basename(o.torrent)));
  const service = await spawnService({ name: `transmission-daemon ${role}`, cmd: ["transmission-daemon", "-f", "-g", config], graceMs: 10_000 });
  const rpc = new TransmissionRpc(rpcPort);
  const status = async () =>
    ((await rpc.call("torrent-get", { fields: ["status"] }).catch(() => null))?.torrents as { status: number }[] | undefined)?.[0]?.status;
  if (role === "leech") await pollUntil("transmission-daemon downloading", 60_000, async () => (await status()) === DOWNLOADING, service);
  const done = role === "leech" ? pollUntil("transmission-daemon complete", o.timeoutS * 1000, () => fs.existsSync(doneFile), service) : Promise.resolve();
  return { service, address: `127.0.0.1:${o.port}`, done, stop: async () => void (await service.stop()) };
}

/** Transmission's torrent status code for "downloading" (RPC spec: 4). */
const DOWNLOADING = 4;

export const transmissionClient: BenchClient = {
  id: "transmission",
  label: "Transmission 3.00",
  programs: [TRANSMISSION_DAEMON],
  settings: "transmission-daemon, cache-size-mb 64, no limits",
  dialsTrackerPeers: false,
  seed: (o) => start(o, "seed"),
  leech: (o) => start(o, "leech"),
};
