// What a Daemon is opened with (cli/daemon.ts fills it from the command line, tests and benches directly)
// and the defaults of what it may leave out: one place for an option's meaning and its default, apart
// from the service that reads them.
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";

export interface DaemonOptions {
  stateDir: string;
  /** Where torrents go unless their request names a save path. */
  downloadDir: string;
  /** The peer port (0: any free port). */
  port: number;
  bind?: string;
  /** MSE/PE for every connection (default: prefer). */
  encryption?: EncryptionPolicy;
  /** Peer connections across all torrents at most. */
  maxPeers?: number;
  /** Peer slots of one torrent, unless its request says otherwise. */
  maxPeersPerTorrent?: number;
  /** Piece memory shared by the downloading torrents, and what one asks of it. */
  poolBytes?: number;
  torrentPoolBytes?: number;
  /** Longest a resume mark waits before it is written (default 1 s). */
  resumeFlushMs?: number;
  /** One line for the log (errors of single torrents, resume data that could not be saved). */
  log?: (line: string) => void;
}

export const DEFAULT_MAX_PEERS = 200;
export const DEFAULT_PEERS_PER_TORRENT = 50;
export const DEFAULT_POOL_BYTES = 128 * 1024 * 1024;
export const DEFAULT_TORRENT_POOL_BYTES = 16 * 1024 * 1024;

/** The log the options name, or standard error with the daemon's prefix. */
export function daemonLog(options: DaemonOptions): (line: string) => void {
  return options.log ?? ((line) => console.error(`btpeer daemon: ${line}`));
}
