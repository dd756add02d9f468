// qBittorrent 4.5 (qbittorrent-nox, libtorrent 2 inside) at its defaults, the torrent given on its
// command line; completion read from its Web API every 50 ms.
import path from "node:path";
import { startQbittorrent } from "../../test/support/qbittorrent.ts";
import { PROGRAMS } from "../../test/support/system.ts";
import { pollUntil, type BenchClient, type RunOptions } from "./adapter.ts";

async function start(o: RunOptions, role: "seed" | "leech") {
  const qb = await startQbittorrent({ torrent: o.torrent, dir: o.dir, profileDir: path.join(o.work, "qbittorrent"), name: `qbittorrent-nox ${role}` });
  const complete = async () => {
    const t = await qb.torrent().catch(() => undefined);
    return t !== undefined && t.progress === 1 && /UP$|^uploading$/.test(t.state);
  };
  const done = role === "leech" ? pollUntil("qbittorrent-nox complete", o.timeoutS * 1000, complete, qb.service) : Promise.resolve();
  return { service: qb.service, address: `127.0.0.1:${qb.port}`, done, stop: async () => void (await qb.stop()) };
}

export const qbittorrentClient: BenchClient = {
  id: "qbittorrent",
  label: "qBittorrent 4.5",
  programs: [PROGRAMS.qbittorrent],
  settings: "defaults (libtorrent 2 inside)",
  dialsTrackerPeers: true,
  seed: (o) => start(o, "seed"),
  leech: (o) => start(o, "leech"),
};
