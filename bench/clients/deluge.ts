// Deluge 2.0 (deluged, libtorrent 2 inside) at its defaults, set up and fed the torrent through
// Deluge's own client library (deluge_driver.py, run with Debian's Python), which also reports
// completion every 50 ms. The daemon's CPU and memory are measured, not the driver's.
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { spawnService } from "../../test/support/processes.ts";
import { DEBIAN_PYTHON } from "../../test/support/system.ts";
import { pollUntil, type BenchClient, type RunOptions } from "./adapter.ts";

export const DELUGED = { label: "deluged", probe: () => Bun.which("deluged") !== null, install: "sudo apt-get install -y deluged" };
const DRIVER = path.join(import.meta.dir, "deluge_driver.py");

async function start(o: RunOptions, role: "seed" | "leech") {
  const config = path.join(o.work, "deluge");
  fs.mkdirSync(config, { recursive: true });
  const daemonPort = freePort();
  const service = await spawnService({
    name: `deluged ${role}`,
    cmd: ["deluged", "-d", "-c", config, "-p", String(daemonPort), "-u", "127.0.0.1", "-i", "127.0.0.1", "-L", "error"],
    ready: { port: daemonPort },
    readyTimeoutMs: 60_000,
    graceMs: 10_000,
  });
  await pollUntil("deluged's auth file", 30_000, () => fs.existsSync(path.join(config, "auth")), service);
  const driver = await spawnService({
    name: `deluge driver ${role}`,
    cmd: [DEBIAN_PYTHON, "-u", DRIVER, config, String(daemonPort), String(o.port), o.torrent, o.dir, role],
    graceMs: 2000,
  });
  const outcome = driver.waitForLine(/"event": "(seeding|finished|error)"/, o.timeoutS * 1000).then((line) => {
    if (line.includes('"error"')) throw new Error(`deluge: ${line}\n${service.output()}`);
  });
  if (role === "seed") await outcome;
  const stop = async () => {
    await driver.stop();
    await service.stop();
  };
  return { service, address: `127.0.0.1:${o.port}`, done: role === "leech" ? outcome : Promise.resolve(), stop };
}

export const delugeClient: BenchClient = {
  id: "deluge",
  label: "Deluge 2.0",
  programs: [DELUGED],
  settings: "defaults (libtorrent 2 inside)",
  dialsTrackerPeers: true,
  seed: (o) => start(o, "seed"),
  leech: (o) => start(o, "leech"),
};
