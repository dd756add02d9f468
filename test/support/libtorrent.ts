// A real libtorrent peer (Debian's python3-libtorrent through libtorrent/lt_peer.py), as a handle.
// See lt_peer.py for the settings: loopback and TCP only, no LSD/UPnP/NAT-PMP (no DHT unless `dht`), several connections
// per IP allowed, SSRF mitigation off so that loopback trackers and peers are accepted.
import path from "node:path";
import { spawnService, type Service } from "./processes.ts";
import { DEBIAN_PYTHON } from "./system.ts";
import { jsonLine, jsonLines, waitForJson } from "./json-lines.ts";

export const LT_PEER_SCRIPT = path.join(import.meta.dir, "libtorrent", "lt_peer.py");

export interface LtPeerOptions {
  mode: "seed" | "download";
  torrent: string;
  /** The save directory: the torrent's file (or its top directory) is inside it. */
  dir: string;
  /** TCP port on 127.0.0.1; 0 or absent picks a free one (read it from `port`). */
  port?: number;
  /** HOST:PORT peers to connect to directly. */
  peers?: string[];
  /** Find peers only through the torrent's trackers (also turns PEX off). */
  trackerOnly?: boolean;
  /** Ignore the torrent's trackers (direct peers only). */
  noTrackers?: boolean;
  /** download: keep running as a seeder after finishing (default: exit when done). */
  keepSeeding?: boolean;
  /** download: seconds to complete before lt_peer exits with code 4 (default 120). */
  timeoutS?: number;
  /** Hard bound on the process lifetime (default 900 s). */
  maxLifeS?: number;
  /** Seconds between status lines (default 1). */
  intervalS?: number;
  /** Start from libtorrent's high_performance_seed settings. */
  highPerformance?: boolean;
  /** MSE/PE policy both ways (out_enc_policy/in_enc_policy); libtorrent's default is "enabled". */
  encryption?: "forced" | "enabled" | "disabled";
  /** allowed_enc_level: the payload methods an MSE handshake may select (default both). */
  encLevel?: "rc4" | "plaintext" | "both";
  /** prefer_rc4: select RC4 when the peer offers both. */
  preferRc4?: boolean;
  /** Run libtorrent's DHT (on the listen port, UDP, loopback restrictions off), starting from these HOST:PORT nodes. */
  dht?: string[];
  /** BEP 43: libtorrent's DHT node asks but answers no query (with `dht`). */
  dhtReadOnly?: boolean;
  /** Upload rate limit in bytes/s. */
  uploadLimit?: number;
  /** Download rate limit in bytes/s. */
  downloadLimit?: number;
  /** Never unchoke anyone (it still serves a fast peer its allowed fast pieces). */
  noUnchoke?: boolean;
  /** BEP 6 pieces it grants a fast peer to fetch while choked (libtorrent's default: 5). */
  allowedFast?: number;
  /** Stop unchoking anyone once this many payload bytes went up (events choked-all / unchoked-all), for `chokeFor` seconds. */
  chokeAt?: number;
  chokeFor?: number;
  /** Report the wire messages libtorrent logs (peer-log events: ip, port, dir "in"/"out", msg, text). */
  peerLog?: boolean;
  /** Report the connected peers with each status (peers events). */
  listPeers?: boolean;
  name?: string;
}

/** A `peer-log` event of lt_peer.py --peer-log. */
export interface LtPeerLog extends LtEvent {
  ip: string;
  port: number;
  dir: "in" | "out";
  msg: string;
  text: string;
}

/** One connected peer of a `peers` event (lt_peer.py --list-peers); `source` is libtorrent's peer_source_flags. */
export interface LtPeerEntry {
  ip: string;
  port: number;
  source: number;
  outgoing: boolean;
  client: string;
  /** Requests libtorrent has out to this peer (asked, not yet answered). */
  download_queue: number;
  /** This peer's requests queued with libtorrent. */
  upload_queue: number;
}

/** libtorrent's peer_info source flags. */
export const LT_SOURCE = { tracker: 0x1, dht: 0x2, pex: 0x4, lsd: 0x8, resumeData: 0x10, incoming: 0x20 } as const;

/** One JSON line from lt_peer.py; see its docstring for the events. */
export interface LtEvent {
  event: string;
  t: number;
  [field: string]: unknown;
}

export interface LtStatus extends LtEvent {
  state: string;
  progress: number;
  download_rate: number;
  upload_rate: number;
  total_download: number;
  total_upload: number;
  num_peers: number;
  num_seeds: number;
  pieces_have: number;
}

export interface LtPeer {
  service: Service;
  /** The TCP port it listens on. */
  port: number;
  /** "127.0.0.1:PORT", ready for another peer's --peer. */
  address: string;
  /** Every event so far, parsed. */
  readonly lines: LtEvent[];
  /** The first event (past or future) matching; rejects on exit or timeout, with the peer's output. */
  waitFor(predicate: (e: LtEvent) => boolean, timeoutMs?: number): Promise<LtEvent>;
  /** download: resolves with the `finished` event; rejects with the output if the peer fails. */
  finished(timeoutMs?: number): Promise<LtEvent>;
  /** The last `status` event, if any. */
  lastStatus(): LtStatus | undefined;
  /**
   * `wait` (another client's wait for what this peer should bring about), failed at once if this peer exits
   * first, and failing with this peer's output either way: the other client's own output cannot say that
   * the peer it waits on is gone.
   */
  whileRunning<T>(wait: Promise<T>): Promise<T>;
  /** SIGTERM (lt_peer flushes and prints `stopped`), SIGKILL after a grace period. */
  stop(): Promise<number>;
}

/**
 * Starts lt_peer.py and waits until it listens; a seeder also until its data is verified (a seeder
 * whose data does not match the torrent fails here, with lt_peer's message).
 */
export async function startLtPeer(options: LtPeerOptions): Promise<LtPeer> {
  const cmd = [DEBIAN_PYTHON, "-u", LT_PEER_SCRIPT, options.mode, options.torrent, options.dir, "--port", String(options.port ?? 0)];
  for (const p of options.peers ?? []) cmd.push("--peer", p);
  if (options.trackerOnly) cmd.push("--tracker-only");
  if (options.noTrackers) cmd.push("--no-trackers");
  if (options.mode === "download") cmd.push(options.keepSeeding ? "--keep-seeding" : "--exit-when-done");
  if (options.mode === "download") cmd.push("--timeout", String(options.timeoutS ?? 120));
  cmd.push("--max-life", String(options.maxLifeS ?? 900), "--interval", String(options.intervalS ?? 1));
  if (options.highPerformance) cmd.push("--high-performance");
  if (options.encryption) cmd.push("--encryption", options.encryption);
  if (options.encLevel) cmd.push("--enc-level", options.encLevel);
  if (options.preferRc4) cmd.push("--prefer-rc4");
  if (options.dht) cmd.push("--dht", ...options.dht.flatMap((n) => ["--dht-node", n]));
  if (options.dhtReadOnly) cmd.push("--dht-read-only");
  if (options.uploadLimit) cmd.push("--upload-limit", String(options.uploadLimit));
  if (options.downloadLimit) cmd.push("--download-limit", String(options.downloadLimit));
  if (options.noUnchoke) cmd.push("--no-unchoke");
  if (options.allowedFast !== undefined) cmd.push("--allowed-fast", String(options.allowedFast));
  if (options.chokeAt) cmd.push("--choke-at", String(options.chokeAt), "--choke-for", String(options.chokeFor ?? 5));
  if (options.peerLog) cmd.push("--peer-log");
  if (options.listPeers) cmd.push("--list-peers");

  const name = options.name ?? `libtorrent ${options.mode}`;
  const readyEvent = options.mode === "seed" ? "seeding" : "listening";
  const service = await spawnService({
    name,
    cmd,
    ready: { line: new RegExp(`"event": "${readyEvent}"`) },
    readyTimeoutMs: 120_000, // a seeder checks all its data first
    graceMs: 10_000,
  });
  const listening = jsonLine<LtEvent>(await service.waitForLine(/"event": "listening"/))!;
  const port = Number(listening.port);

  const events = () => jsonLines<LtEvent>(service);
  const waitFor = (predicate: (e: LtEvent) => boolean, timeoutMs = 120_000) => waitForJson(service, predicate, timeoutMs);
  return {
    service,
    port,
    address: `127.0.0.1:${port}`,
    get lines() {
      return events();
    },
    waitFor,
    finished: async (timeoutMs = (options.timeoutS ?? 120) * 1000 + 10_000) => {
      const e = await waitFor((ev) => ev.event === "finished" || ev.event === "error", timeoutMs);
      if (e.event === "error") throw new Error(`${name} failed: ${String(e.message)}\n${service.output()}`);
      return e;
    },
    lastStatus: () => events().findLast((e) => e.event === "status") as LtStatus | undefined,
    whileRunning: (wait) => whileRunning(service, wait),
    stop: () => service.stop(),
  };
}

async function whileRunning<T>(service: Service, wait: Promise<T>): Promise<T> {
  let waiting = true;
  // Never settles once the wait is over: a peer stopped afterwards is no failure.
  const gone = service.exited.then((code) =>
    waiting ? Promise.reject(new Error(`${service.name} exited (code ${code}) during the wait`)) : new Promise<never>(() => {}),
  );
  try {
    return await Promise.race([wait, gone]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${service.output()}`, { cause: error });
  } finally {
    waiting = false;
  }
}
