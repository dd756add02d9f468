// rtorrent 0.9.8 without its terminal UI (system.daemon.set), tuned as its performance guide advises for
// fast links: a larger piece memory (pieces.memory.max 1 GiB), no throttles, preloading on. The
// download-finished event touches a file the bench waits for.
import fs from "node:fs";
import path from "node:path";
import { spawnService } from "../../test/support/processes.ts";
import { pollUntil, type BenchClient, type RunOptions } from "./adapter.ts";

export const RTORRENT = { label: "rtorrent", probe: () => Bun.which("rtorrent") !== null, install: "sudo apt-get install -y rtorrent" };

async function start(o: RunOptions, role: "seed" | "leech") {
  const work = path.join(o.work, "rtorrent");
  const session = path.join(work, "session");
  fs.mkdirSync(session, { recursive: true });
  const doneFile = path.join(work, "done");
  const rc = [
    `directory.default.set = "${o.dir}"`,
    `session.path.set = "${session}"`,
    `network.port_range.set = ${o.port}-${o.port}`,
    "network.port_random.set = no",
    "network.bind_address.set = 127.0.0.1",
    "network.local_address.set = 127.0.0.1",
    "dht.mode.set = disable",
    "protocol.pex.set = no",
    "trackers.use_udp.set = no",
    "throttle.global_down.max_rate.set = 0",
    "throttle.global_up.max_rate.set = 0",
    "pieces.memory.max.set = 1024M",
    "pieces.preload.type.set = 2",
    "pieces.hash.on_completion.set = no",
    "system.daemon.set = true",
    `log.open_file = "bench", "${path.join(work, "rtorrent.log")}"`,
    'log.add_output = "info", "bench"',
    `method.set_key = event.download.finished, bench_done, "execute.nothrow=touch,${doneFile}"`,
    `schedule2 = bench_load, 0, 0, "load.start=${o.torrent}"`,
  ].join("\n");
  fs.writeFileSync(path.join(work, "rtorrent.rc"), `${rc}\n`);
  const service = await spawnService({
    name: `rtorrent ${role}`,
    cmd: ["rtorrent", "-n", "-o", `import=${path.join(work, "rtorrent.rc")}`],
    env: { HOME: work, TERM: "dumb" },
    graceMs: 5000,
  });
  const log = () => (fs.existsSync(path.join(work, "rtorrent.log")) ? fs.readFileSync(path.join(work, "rtorrent.log"), "utf8").slice(-3000) : "");
  const done =
    role === "leech"
      ? pollUntil("rtorrent complete", o.timeoutS * 1000, () => fs.existsSync(doneFile), service).catch((error: Error) => {
          throw new Error(`${error.message}\nrtorrent's log:\n${log()}`);
        })
      : Promise.resolve();
  return { service, address: `127.0.0.1:${o.port}`, done, stop: async () => void (await service.stop()) };
}

export const rtorrentClient: BenchClient = {
  id: "rtorrent",
  label: "rtorrent 0.9.8",
  programs: [RTORRENT],
  settings: "pieces.memory.max 1 GiB, preload, no throttles",
  dialsTrackerPeers: true,
  seed: (o) => start(o, "seed"),
  leech: (o) => start(o, "leech"),
};
