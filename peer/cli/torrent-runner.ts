// What `download` and `seed` share: read the torrent, open storage, run a client with that one torrent
// (which first checks what is on disk) until it finishes or a signal arrives, and turn every failure into
// one line and an exit code.
import * as fs from "node:fs";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { EncryptionPolicy } from "../../shared/mse/policy.ts";
import { Client } from "../client/client.ts";
import { parseHostPort } from "../dht/bootstrap.ts";
import { DhtError } from "../dht/errors.ts";
import { readDhtState, writeDhtState } from "./dht-state-file.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import { describeClose } from "../net/close-reason.ts";
import { ListenError } from "../net/sockets.ts";
import { addressKey } from "../swarm/peer-directory.ts";
import { humanReporter, jsonReporter, type Reporter } from "./progress.ts";
import { exitCodeFor, type CliErrorCode, type PeerErrorCode } from "../torrent/exit-codes.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import { StorageError, TorrentStorage } from "../storage/index.ts";
import { allNormal, type FilePriority } from "../pieces/wanted.ts";
import type { SeedingGoals } from "../torrent/seeding-goals.ts";

export interface RunOptions {
  torrentPath: string;
  dir: string;
  port: number;
  /** --bind: the local address to listen on and dial from. */
  bind?: string;
  seed: boolean;
  peers: PeerAddress[];
  poolMiB: number;
  maxPeers: number;
  /** Bytes per second this session may upload, all peers together (undefined: no limit). */
  uploadLimit?: number;
  /** --encryption (MSE/PE). */
  encryption: EncryptionPolicy;
  downloadLimit?: number;
  /** --only / --skip: which file indices to fetch (undefined: all). */
  files?: FileSelection;
  sequential?: boolean;
  goals?: SeedingGoals;
  json: boolean;
  /** `seed` command: every piece must be on disk already. */
  requireComplete: boolean;
  /** The DHT: its bootstrap routers (undefined: the well-known ones) and --dht-state file, or null for --no-dht. */
  dht: { bootstrap?: string[]; statePath?: string } | null;
}

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function loadTorrent(path: string): Metainfo {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(path));
  } catch (error) {
    throw new CliError("bad-torrent", `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseMetainfo(bytes);
  } catch (error) {
    throw new CliError("bad-torrent", `${path} is not a valid torrent: ${(error as Error).message}`);
  }
}

/** Where a run's events go (--json or the live line), and how a failure becomes one line and an exit code. */
export function reporting(options: Pick<RunOptions, "json">): { report: Reporter; fail: (code: PeerErrorCode, message: string) => number } {
  const report = options.json ? jsonReporter() : humanReporter();
  const fail = (code: PeerErrorCode, message: string): number => {
    if (options.json) report({ event: "error", code, message });
    else console.error(`btpeer: ${message}`);
    return exitCodeFor(code);
  };
  return { report, fail };
}

/** Until the torrent ends; Ctrl-C or SIGTERM stops whatever `current()` is then (it may change: a magnet becomes a torrent). */
export async function untilFinished(current: () => { stop(code: number): Promise<void> }, finished: Promise<number>): Promise<number> {
  const onSignal = () => void current().stop(0);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await finished;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * The client of `download` and `seed` (not started yet): one torrent, so the client's limits are the
 * torrent's and never bind first; a peer it turns away at the door is reported.
 */
export function oneTorrentClient(options: Pick<RunOptions, "port" | "bind" | "maxPeers" | "poolMiB" | "encryption">, report: Reporter): Client {
  return new Client({
    port: options.port,
    bind: options.bind,
    maxConnections: options.maxPeers,
    poolBytes: options.poolMiB * 1024 * 1024,
    encryption: options.encryption,
    onIncomingDropped: (address, reason) => report({ event: "incoming-dropped", peer: addressKey(address), code: reason.code, reason: describeClose(reason) }),
  });
}

export async function runTorrent(options: RunOptions): Promise<number> {
  const { report, fail } = reporting(options);
  try {
    const meta = loadTorrent(options.torrentPath);
    for (const warning of meta.warnings) report({ event: "warning", message: warning });
    const filePriorities = priorities(meta, options.files);
    const storage = TorrentStorage.open(meta, options.dir, { skipped: filePriorities.map((p) => p === "skip") });
    const poolBytes = options.poolMiB * 1024 * 1024;
    const client = oneTorrentClient(options, report);
    try {
      client.start();
    } catch (error) {
      storage.close();
      throw error;
    }
    // BEP 27: a private torrent does not use the DHT, so its process has no node at all.
    if (options.dht && !meta.private) await enableDht(client, options.dht, report);
    const torrent = client.addTorrent({
      meta,
      storage,
      have: new Bitfield(meta.pieceCount),
      dir: options.dir,
      // Pieces lying wholly in what open() just created are known missing: not worth hashing.
      check: (i) => storage.mayHoldData(i),
      mustBeComplete: options.requireComplete
        ? (missing) => `${missing} of ${meta.pieceCount} pieces are missing or damaged in ${options.dir}; use \`btpeer download\` to fetch them`
        : undefined,
      poolBytes,
      maxPeers: options.maxPeers,
      peers: options.peers,
      seed: options.seed,
      uploadLimit: options.uploadLimit,
      downloadLimit: options.downloadLimit,
      filePriorities,
      sequential: options.sequential,
      goals: options.goals,
      onEvent: report,
    });
    torrent.start();
    const code = await untilFinished(() => torrent, torrent.finished);
    saveDhtState(client, options.dht?.statePath);
    await client.stop();
    return code;
  } catch (error) {
    // Only the errors that say what went wrong in a code end here; anything else is a bug and is thrown.
    if (error instanceof ListenError || error instanceof CliError || error instanceof StorageError) return fail(error.code, error.message);
    throw error;
  }
}

/** Starts the client's DHT; one that cannot open a UDP socket is a warning, and the torrent runs without it. */
export async function enableDht(client: Client, dht: NonNullable<RunOptions["dht"]>, report: (e: TorrentEvent) => void): Promise<void> {
  try {
    await client.enableDht({
      bootstrap: dht.bootstrap,
      savedTable: readDhtState(dht.statePath),
      // BTPEER_DHT_LOOPBACK_ONLY=1 (the tests' environment): never a packet or a DNS query off this machine.
      loopbackOnly: process.env.BTPEER_DHT_LOOPBACK_ONLY === "1",
      onJoined: ({ nodes, source }) => {
        report({ event: "dht-joined", nodes, source, port: client.dht?.port ?? 0 });
        if (nodes > 0) saveDhtState(client, dht.statePath);
      },
    });
  } catch (error) {
    if (!(error instanceof DhtError)) throw error;
    report({ event: "warning", message: `running without the DHT: ${error.message}` });
  }
}

/** The table as it is now, into --dht-state's file (after the join, and at the end). */
export function saveDhtState(client: Client, path: string | undefined): void {
  if (!path || !client.dht) return;
  try {
    writeDhtState(path, client.dht.saveTable());
  } catch (error) {
    console.error(`btpeer: cannot write --dht-state ${path}: ${(error as Error).message}`);
  }
}

/** --dht-bootstrap host:port (repeatable; checked here, resolved only when the DHT needs a router), --dht-state, --no-dht. */
export function dhtOption(values: { "no-dht"?: boolean; "dht-bootstrap"?: string[]; "dht-state"?: string }): RunOptions["dht"] {
  const bootstrap = values["dht-bootstrap"];
  if (values["no-dht"]) {
    if (bootstrap || values["dht-state"]) throw new CliError("usage", "--no-dht contradicts --dht-bootstrap and --dht-state");
    return null;
  }
  for (const b of bootstrap ?? []) {
    try {
      parseHostPort(b);
    } catch {
      throw new CliError("usage", `--dht-bootstrap wants host:port, got "${b}"`);
    }
  }
  return { bootstrap, statePath: values["dht-state"] };
}

/** --only 0,2 (fetch just these files) or --skip 1 (all but these): file indices as `btpeer info` lists them. */
export type FileSelection = { only: number[] } | { skip: number[] };

export function priorities(meta: Metainfo, selection: FileSelection | undefined): FilePriority[] {
  const list = allNormal(meta.files.length);
  if (!selection) return list;
  const indices = "only" in selection ? selection.only : selection.skip;
  const name = "only" in selection ? "--only" : "--skip";
  for (const i of indices) {
    if (i >= meta.files.length) throw new CliError("usage", `${name}: the torrent has files 0 to ${meta.files.length - 1} (see btpeer info), not ${i}`);
  }
  if ("only" in selection) list.fill("skip");
  for (const i of indices) list[i] = "only" in selection ? "normal" : "skip";
  return list;
}

/** "0,2,5": file indices for --only / --skip. */
export function parseFileIndices(name: string, text: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new CliError("usage", `${name} wants file indices as btpeer info lists them, such as 0,2, got "${text}"`);
  return parts.map(Number);
}

/** "host:port", "[v6]:port". */
export function parsePeerAddress(text: string): PeerAddress {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port > 0 && port < 65536)) throw new CliError("usage", `--peer wants host:port (or [v6]:port), got "${text}"`);
  const ip = match[1]! === "localhost" ? "127.0.0.1" : match[1]!;
  return { ip, port };
}
