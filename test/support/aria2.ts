// A real aria2c peer on loopback. aria2c has no option to connect to a given peer, so it always finds
// peers through a tracker (the torrent's own, or `tracker`). All its sockets are bound to 127.0.0.1
// (--interface), IPv6 is off, and DHT, local peer discovery and PEX are off, so it meets exactly the
// peers the tracker names.
import { freePort } from "./ports.ts";
import { spawnService, type Service } from "./processes.ts";

export interface Aria2Options {
  torrent: string;
  /** Download directory (the torrent's file or top directory goes inside). */
  dir: string;
  /** An extra announce URL; with `onlyThisTracker` the torrent's own trackers are ignored. */
  tracker?: string;
  onlyThisTracker?: boolean;
  /** TCP listen port (default: a free one). */
  port?: number;
  /** Minutes to seed after completing (default 0: exit when done). */
  seedTimeMin?: number;
  /**
   * Stop seeding once uploaded ÷ size reaches this (aria2c's default is 1.0, which ends a seeder after one
   * full upload, however long `seedTimeMin`); 0 seeds regardless of ratio.
   */
  seedRatio?: number;
  /** Re-announce every N seconds instead of the tracker's interval (useful if aria2c may start first). */
  trackerIntervalS?: number;
  /**
   * aria2c sends UDP tracker requests through its DHT socket, so UDP trackers need DHT on. It starts
   * with no DHT node to ask (no entry point, a fresh routing table file in `dir`), so it still meets
   * only the peers the tracker names.
   */
  udpTrackers?: boolean;
  /** aria2c gives up when nothing arrives for this many seconds (default 60). */
  stallTimeoutS?: number;
  /** MSE/PE only: --bt-require-crypto=true --bt-min-crypto-level=arc4 (no plaintext peers, RC4 payload). */
  requireCrypto?: boolean;
  name?: string;
}

export interface Aria2Peer {
  service: Service;
  port: number;
  /** Resolves with aria2c's exit code (0: downloaded and verified). */
  exited: Promise<number>;
  /** Resolves when aria2c exits 0; rejects with its output otherwise. */
  done(): Promise<void>;
  stop(): Promise<number>;
}

export function aria2Args(options: Aria2Options, port: number): string[] {
  const args = [
    "aria2c",
    `--dir=${options.dir}`,
    `--listen-port=${port}`,
    "--interface=127.0.0.1",
    "--disable-ipv6=true",
    ...(options.udpTrackers
      ? ["--enable-dht=true", `--dht-listen-port=${freePort()}`, `--dht-file-path=${options.dir}/.aria2-dht.dat`]
      : ["--enable-dht=false"]),
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    `--seed-time=${options.seedTimeMin ?? 0}`,
    // aria2 also stops seeding at a share ratio of 1.0 by default, and closes its connections then: a
    // seeder whose one leecher was still missing its last blocks (aria2 counts what it has queued) left
    // it waiting on them. Only --seed-time ends the seeding here.
    "--seed-ratio=0.0",
    "--bt-hash-check-seed=true",
    "--check-integrity=true",
    "--follow-torrent=mem",
    "--allow-overwrite=true",
    "--auto-file-renaming=false",
    "--file-allocation=none",
    "--summary-interval=0",
    "--console-log-level=warn",
    `--bt-stop-timeout=${options.stallTimeoutS ?? 60}`,
    "--bt-tracker-connect-timeout=5",
    "--bt-tracker-timeout=10",
    "--max-overall-download-limit=0",
    "--max-overall-upload-limit=0",
    "--no-conf=true",
  ];
  if (options.tracker) args.push(`--bt-tracker=${options.tracker}`);
  if (options.onlyThisTracker) args.push("--bt-exclude-tracker=*");
  if (options.seedRatio !== undefined) args.push(`--seed-ratio=${options.seedRatio.toFixed(1)}`);
  if (options.trackerIntervalS) args.push(`--bt-tracker-interval=${options.trackerIntervalS}`);
  if (options.requireCrypto) args.push("--bt-require-crypto=true", "--bt-min-crypto-level=arc4");
  args.push(options.torrent);
  return args;
}

/** Starts aria2c on a torrent; call `done()` to wait for a verified download. */
export async function startAria2(options: Aria2Options): Promise<Aria2Peer> {
  const port = options.port ?? freePort();
  const name = options.name ?? "aria2c";
  const service = await spawnService({ name, cmd: aria2Args(options, port), graceMs: 5000 });
  return {
    service,
    port,
    exited: service.exited,
    done: async () => {
      const code = await service.exited;
      if (code !== 0) throw new Error(`${name} exited with code ${code}\n${service.output()}`);
    },
    stop: () => service.stop(),
  };
}
