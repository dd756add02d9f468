// Counters this tracker instance keeps in its own memory: failures answered without reaching the
// store (a bad request is refused before any store call, and counting it in the store would let
// anyone make us spend a Redis call per junk request), and store calls that failed (the store cannot
// count its own outage). /metrics reports them as per-instance series, labelled with a random id.
import type { TrackerErrorCode } from "../errors.ts";
import { StoreUnavailableError, type StoreFailureKind } from "../store/swarm-store.ts";

export const FAILURE_CODES: readonly TrackerErrorCode[] = [
  "missing-param",
  "bad-param",
  "bad-info-hash",
  "bad-peer-id",
  "bad-port",
  "bad-query-encoding",
  "query-too-long",
  "too-many-hashes",
  "full-scrape-disabled",
  "not-allowed",
  "method-not-allowed",
  "not-found",
  "bad-host",
  "no-client-ip",
  "store-unavailable",
  "not-configured",
  "internal",
];

export const STORE_FAILURE_KINDS: readonly StoreFailureKind[] = ["unreachable", "backend-error", "bad-reply", "unexpected"];

export class InstanceCounters {
  /** Random, so that instances (Workers isolates, processes) never share a series by accident. */
  readonly id: string;
  /** Unix time in seconds. */
  readonly startedAt: number;
  private readonly failures = new Map<TrackerErrorCode, number>();
  private readonly storeErrors = new Map<StoreFailureKind, number>();

  constructor(now: number = Date.now()) {
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    this.id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    this.startedAt = Math.floor(now / 1000);
  }

  failed(code: TrackerErrorCode): void {
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
  }

  storeFailed(error: unknown): void {
    const kind = error instanceof StoreUnavailableError ? error.kind : "unexpected";
    this.storeErrors.set(kind, (this.storeErrors.get(kind) ?? 0) + 1);
  }

  failuresOf(code: TrackerErrorCode): number {
    return this.failures.get(code) ?? 0;
  }

  storeErrorsOf(kind: StoreFailureKind): number {
    return this.storeErrors.get(kind) ?? 0;
  }
}
