// libtorrent 2 (python3-libtorrent) through the tests' lt_peer.py, from its high_performance_seed
// settings preset, which libtorrent's documentation recommends for servers that seed at high rates.
import { LT_PEER_SCRIPT, startLtPeer } from "../../test/support/libtorrent.ts";
import { spawnService } from "../../test/support/processes.ts";
import { DEBIAN_PYTHON, PROGRAMS } from "../../test/support/system.ts";
import { doneOnExit, type BenchClient } from "./adapter.ts";

export const libtorrentClient: BenchClient = {
  id: "libtorrent",
  label: "libtorrent 2.0",
  programs: [PROGRAMS.libtorrent],
  settings: "high_performance_seed preset",
  dialsTrackerPeers: true,
  async seed(o) {
    const lt = await startLtPeer({
      mode: "seed",
      torrent: o.torrent,
      dir: o.dir,
      port: o.port,
      peers: o.peers,
      highPerformance: true,
      maxLifeS: 3600,
      intervalS: 5,
    });
    return { service: lt.service, address: lt.address, done: Promise.resolve(), stop: async () => void (await lt.stop()) };
  },
  async leech(o) {
    const cmd = [DEBIAN_PYTHON, "-u", LT_PEER_SCRIPT, "download", o.torrent, o.dir, "--port", String(o.port), "--exit-when-done", "--high-performance"];
    cmd.push("--timeout", String(o.timeoutS), "--interval", "5", ...o.peers.flatMap((p) => ["--peer", p]));
    const service = await spawnService({ name: "libtorrent download", cmd, graceMs: 10_000 });
    return { service, address: `127.0.0.1:${o.port}`, done: doneOnExit(service), stop: async () => void (await service.stop()) };
  },
};
