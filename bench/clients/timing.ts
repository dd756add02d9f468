// Where one bench:clients transfer's time and CPU go: its phases' wall time, the leecher's first block on
// disk (which starts the measured window), and the CPU of a leecher that exited when done.
import fs from "node:fs";
import path from "node:path";
import type { PeerRun } from "./adapter.ts";

/** Where a transfer's wall time goes, phase by phase, printed after it (so overhead is seen, not guessed). */
export class PhaseClock {
  private last = performance.now();
  private readonly first = this.last;
  private readonly phases: [string, number][] = [];

  mark(name: string): void {
    const now = performance.now();
    this.phases.push([name, (now - this.last) / 1000]);
    this.last = now;
  }

  summary(): string {
    return `${((this.last - this.first) / 1000).toFixed(1)} s: ${this.phases.map(([n, s]) => `${n} ${s.toFixed(1)}`).join(", ")}`;
  }
}

/**
 * Resolves when the leecher has written its first block of the payload (polled every 5 ms), which
 * starts the clock: what comes before (start-up, connecting, a client's own pace at letting the first
 * peer in: Transmission takes 10-15 s on loopback, seen with every seeder) is not throughput.
 */
export async function firstByte(out: string, leecher: PeerRun): Promise<void> {
  const files = ["payload.bin", "payload.bin.part"].map((f) => path.join(out, f));
  const deadline = Date.now() + 120_000;
  for (;;) {
    for (const f of files) {
      try {
        if (fs.statSync(f).blocks > 0) return;
      } catch {
        // not created yet
      }
    }
    if (leecher.service.hasExited) return; // done (or failed) before a poll saw it: `done` says which
    if (Date.now() > deadline) throw new Error(`${leecher.service.name} wrote nothing within 120 s\n${leecher.service.output()}`);
    await Bun.sleep(5);
  }
}

/** CPU of a reaped leecher over its whole life (rusage): it exited right after `done`, so this is its cost. */
export function rusageSeconds(run: PeerRun): number {
  const usage = run.service.proc.resourceUsage();
  return usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : 0;
}
