// The two clients bench:swarm drives, behind one shape: btpeer (from source with Bun, or a compiled
// binary) and libtorrent (lt_peer.py). A seeder is started once and kept; a leecher is one measured run.
import fs from "node:fs";
import { startLtPeer } from "../../test/support/libtorrent.ts";
import { LT_PEER_SCRIPT } from "../../test/support/libtorrent.ts";
import { spawnService, type Service } from "../../test/support/processes.ts";
import { DEBIAN_PYTHON } from "../../test/support/system.ts";
import { sampleMemory } from "../memory-sampler.ts";

export type ClientKind = "btpeer" | "libtorrent";

export interface ClientSettings {
  /** How to run btpeer: e.g. [bun, peer/cli.ts] or [dist/btpeer]. */
  btpeerCmd: string[];
  /** btpeer --pool in MiB (reported next to its peak RSS). */
  poolMiB: number;
  /** Start libtorrent from its high_performance_seed preset (the default: libtorrent at its best). */
  ltHighPerformance: boolean;
  /** Extra options for every btpeer of a configuration (e.g. --encryption require). */
  btpeerArgs?: string[];
}

export interface Seeder {
  kind: ClientKind;
  address: string;
  /** Its process, for its CPU time (/proc). */
  pid: number;
  stop(): Promise<number>;
}

export interface LeechResult {
  /** From spawn to the process's own exit after a complete, verified, flushed download. */
  seconds: number;
  cpuSeconds: number;
  /** Peak resident set (VmHWM), bytes. Includes file pages a client maps (libtorrent mmaps its files). */
  peakRss: number;
  /** Largest anonymous resident memory seen while sampling every 50 ms (heap, buffers; no file pages). */
  peakAnon: number;
}

export class BenchError extends Error {
  readonly code: "seeder-failed" | "leecher-failed" | "checksum-mismatch" | "timeout";
  constructor(code: BenchError["code"], message: string) {
    super(message);
    this.name = "BenchError";
    this.code = code;
  }
}

/** `uploadLimit` (btpeer only): its --upload-limit, e.g. "50M"; `env` (btpeer only): added to its environment. */
export async function startSeeder(
  kind: ClientKind,
  s: ClientSettings,
  torrent: string,
  dir: string,
  port: number,
  uploadLimit?: string,
  env?: Record<string, string>,
): Promise<Seeder> {
  if (kind === "libtorrent") {
    if (uploadLimit) throw new Error("the bench caps only btpeer seeders");
    const lt = await startLtPeer({ mode: "seed", torrent, dir, port, noTrackers: true, highPerformance: s.ltHighPerformance, maxLifeS: 3600, intervalS: 5 });
    return { kind, address: lt.address, pid: lt.service.pid, stop: () => lt.stop() };
  }
  const service = await spawnService({
    name: "btpeer seed",
    cmd: [
      ...s.btpeerCmd,
      "seed",
      torrent,
      "--dir",
      dir,
      "--port",
      String(port),
      "--json",
      ...(uploadLimit ? ["--upload-limit", uploadLimit] : []),
      ...(s.btpeerArgs ?? []),
    ],
    ready: { line: /"event":"started"/ },
    readyTimeoutMs: 300_000, // checks all the data first
    graceMs: 5000,
    ...(env ? { env } : {}),
  });
  return { kind, address: `127.0.0.1:${port}`, pid: service.pid, stop: () => service.stop() };
}

function leecherCommand(kind: ClientKind, s: ClientSettings, torrent: string, out: string, port: number, peers: string[], timeoutS: number): string[] {
  if (kind === "libtorrent") {
    const cmd = [DEBIAN_PYTHON, "-u", LT_PEER_SCRIPT, "download", torrent, out, "--port", String(port), "--no-trackers", "--exit-when-done"];
    cmd.push("--timeout", String(timeoutS), "--interval", "5");
    if (s.ltHighPerformance) cmd.push("--high-performance");
    for (const p of peers) cmd.push("--peer", p);
    return cmd;
  }
  const cmd = [
    ...s.btpeerCmd,
    "download",
    torrent,
    "--out",
    out,
    "--no-seed",
    "--port",
    String(port),
    "--json",
    "--pool",
    String(s.poolMiB),
    ...(s.btpeerArgs ?? []),
  ];
  for (const p of peers) cmd.push("--peer", p);
  return cmd;
}

/** A leecher run that has been started; `result` resolves when it exits cleanly, with its figures. */
export interface RunningLeecher {
  service: Service;
  result: Promise<LeechResult>;
}

export async function startLeecher(
  kind: ClientKind,
  s: ClientSettings,
  torrent: string,
  out: string,
  port: number,
  peers: string[],
  timeoutS: number,
): Promise<RunningLeecher> {
  fs.mkdirSync(out, { recursive: true });
  const started = performance.now();
  const service = await spawnService({ name: `${kind} leecher`, cmd: leecherCommand(kind, s, torrent, out, port, peers, timeoutS), graceMs: 5000 });
  const memory = sampleMemory(service.pid);
  const killer = setTimeout(() => void service.stop(), (timeoutS + 15) * 1000);
  const result = (async () => {
    const code = await service.exited;
    const seconds = (performance.now() - started) / 1000;
    const peaks = memory.stop();
    clearTimeout(killer);
    if (code !== 0) throw new BenchError("leecher-failed", `${kind} leecher exited with code ${code}\n${service.output()}`);
    if (!peaks) throw new BenchError("leecher-failed", `no memory figures for the ${kind} leecher: it ended before the first sample`);
    const usage = service.proc.resourceUsage();
    if (!usage) throw new BenchError("leecher-failed", `no resource usage for the ${kind} leecher`);
    const cpuSeconds = Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6;
    return { seconds, cpuSeconds, ...peaks };
  })();
  return { service, result };
}
