// What bench:clients asks of each BitTorrent client: seed a torrent whose data is on disk, or leech it
// into an empty folder, on 127.0.0.1, finding peers through the bench's tracker (and `peers` where the
// client can be told to dial someone). Each client lives in its own file next to this one and says how
// it is configured for throughput; DHT, local peer discovery, PEX and port mapping are off everywhere.
import type { Program } from "../../test/support/system.ts";
import type { Service } from "../../test/support/processes.ts";

export interface PeerRun {
  /** The process whose CPU and memory are the client's. */
  service: Service;
  /** "127.0.0.1:port": where it accepts peers. */
  address: string;
  /** A leecher: resolves once the client says every piece is verified and written; rejects on failure. */
  done: Promise<void>;
  /** Ends the client (a leecher after `done`, a seeder after its group). */
  stop(): Promise<void>;
}

export interface RunOptions {
  torrent: string;
  /** A seeder's folder holding the data, or a leecher's empty download folder. */
  dir: string;
  /** Scratch space for the client's own configuration and state. */
  work: string;
  port: number;
  /** Peers to dial, for clients that can be told (others rely on the tracker). */
  peers: string[];
  /** Seconds a leecher may take before the bench gives up on it. */
  timeoutS: number;
}

export interface BenchClient {
  id: string;
  label: string;
  programs: Program[];
  /** How it is set up for throughput, and where that advice comes from. */
  settings: string;
  /**
   * False when, as a leecher, it never dials a peer at a loopback address that a tracker names
   * (Transmission treats 127.0.0.0/8 as "martian"): the seeder must dial it instead.
   */
  dialsTrackerPeers: boolean;
  seed(o: RunOptions): Promise<PeerRun>;
  leech(o: RunOptions): Promise<PeerRun>;
}

/** Polls `probe` until it returns true; throws with `what` after `timeoutMs`. */
export async function pollUntil(what: string, timeoutMs: number, probe: () => boolean | Promise<boolean>, service?: Service): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (service?.hasExited) throw new Error(`${service.name} exited before ${what}\n${service.output()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${service ? `\n${service.output()}` : ""}`);
    await Bun.sleep(100);
  }
}

/** A leecher process that exits by itself when complete: `done` is its clean exit. */
export function doneOnExit(service: Service): Promise<void> {
  return service.exited.then((code) => {
    if (code !== 0) throw new Error(`${service.name} exited with code ${code}\n${service.output()}`);
  });
}
