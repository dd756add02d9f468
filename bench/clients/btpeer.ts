// btpeer: the project's own client, as people run it (the compiled binary when given), default settings
// (64 MiB piece pool, 2 hashing threads, O_DIRECT piece writes on Linux).
import { spawnService } from "../../test/support/processes.ts";
import { doneOnExit, type BenchClient, type RunOptions } from "./adapter.ts";

export function btpeerClient(cmd: string[]): BenchClient {
  const peerArgs = (o: RunOptions) => o.peers.flatMap((p) => ["--peer", p]);
  return {
    id: "btpeer",
    label: "btpeer",
    programs: [],
    settings: "defaults (--pool 64 MiB, O_DIRECT piece writes), --no-dht",
    dialsTrackerPeers: true,
    async seed(o) {
      const service = await spawnService({
        name: "btpeer seed",
        cmd: [...cmd, "seed", o.torrent, "--dir", o.dir, "--port", String(o.port), "--json", "--no-dht", ...peerArgs(o)],
        ready: { line: /"event":"started"/ },
        readyTimeoutMs: 300_000,
        graceMs: 5000,
      });
      return { service, address: `127.0.0.1:${o.port}`, done: Promise.resolve(), stop: async () => void (await service.stop()) };
    },
    async leech(o) {
      const service = await spawnService({
        name: "btpeer download",
        cmd: [...cmd, "download", o.torrent, "--out", o.dir, "--no-seed", "--port", String(o.port), "--json", "--no-dht", ...peerArgs(o)],
        graceMs: 5000,
      });
      return { service, address: `127.0.0.1:${o.port}`, done: doneOnExit(service), stop: async () => void (await service.stop()) };
    },
  };
}
