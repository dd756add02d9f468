// aria2: its BitTorrent side with a 64 MiB disk cache (--disk-cache, aria2's advice for fast links) and
// no speed limits; it exits by itself once a download is complete and checked. It cannot be told to dial
// a peer: it meets peers through the tracker only.
import { aria2Args } from "../../test/support/aria2.ts";
import { spawnService } from "../../test/support/processes.ts";
import { PROGRAMS } from "../../test/support/system.ts";
import { doneOnExit, type BenchClient, type RunOptions } from "./adapter.ts";

const args = (o: RunOptions, seedMinutes: number) => [
  ...aria2Args({ torrent: o.torrent, dir: o.dir, port: o.port, seedTimeMin: seedMinutes, stallTimeoutS: o.timeoutS }, o.port).slice(0, -1),
  "--disk-cache=64M",
  o.torrent,
];

export const aria2Client: BenchClient = {
  id: "aria2",
  label: "aria2",
  programs: [PROGRAMS.aria2],
  settings: "--disk-cache=64M, no limits",
  dialsTrackerPeers: true,
  async seed(o) {
    const service = await spawnService({ name: "aria2c seed", cmd: args(o, 600), graceMs: 5000 });
    return { service, address: `127.0.0.1:${o.port}`, done: Promise.resolve(), stop: async () => void (await service.stop()) };
  },
  async leech(o) {
    const service = await spawnService({ name: "aria2c download", cmd: args(o, 0), graceMs: 5000 });
    return { service, address: `127.0.0.1:${o.port}`, done: doneOnExit(service), stop: async () => void (await service.stop()) };
  },
};
