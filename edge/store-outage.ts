// Store outages as the log sees them: one line when the store starts failing, one when it answers
// again, with how many requests failed meanwhile and for how long. Each failed request during an
// outage is only counted (and logged at debug), so a dead Redis cannot flood the log.
import type { Logger } from "./log.ts";
import { StoreUnavailableError, type StoreFailureKind } from "./store/swarm-store.ts";

type OutageState = { up: true } | { up: false; since: number; failed: number; kind: StoreFailureKind };

export class StoreOutageLog {
  private state: OutageState = { up: true };

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A store call failed with `error` (whatever it is: stores are expected to throw StoreUnavailableError). */
  failed(operation: string, error: unknown): void {
    const { kind, detail } = describe(error);
    if (this.state.up) {
      this.state = { up: false, since: this.now(), failed: 1, kind };
      this.log.warn(`store unavailable (${kind}): ${detail}; counting failed requests until it answers again`);
      return;
    }
    this.state.failed++;
    this.log.debug(`store still unavailable: ${operation} failed (${kind}): ${detail}`);
  }

  /** A store call succeeded: ends an outage, if there was one. */
  succeeded(): void {
    if (this.state.up) return;
    const { since, failed, kind } = this.state;
    this.state = { up: true };
    const seconds = ((this.now() - since) / 1000).toFixed(1);
    this.log.info(`store available again after ${seconds} s (${kind}); ${failed} requests failed meanwhile`);
  }
}

/** Kind and a message that is safe to log; anything else a store throws is a bug and shown by name only. */
function describe(error: unknown): { kind: StoreFailureKind; detail: string } {
  if (error instanceof StoreUnavailableError) return { kind: error.kind, detail: error.message };
  return { kind: "unexpected", detail: error instanceof Error ? error.name : typeof error };
}
