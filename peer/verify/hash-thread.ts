// One hashing thread of the HashPool, seen from the main thread: its worker, the jobs it holds, and which
// registered piece pools it has been told of (a pool is sent to a thread with its first job there, so an
// idle thread never holds a torrent's memory, and a new thread needs no catching up). Pieces come in
// batches (the HashPool makes them): one message, hashed together, answered by one message.
import { StorageError, type StorageErrorCode } from "../storage/errors.ts";
import type { DiskRange } from "./disk-check.ts";
import { workerUrl } from "./verify.ts";
import type { HashPoolReply, HashPoolRequest, PieceCheck } from "./hash-pool-protocol.ts";

/** A piece handed to the pool and not answered yet. */
export interface HashJob {
  readonly kind: "piece";
  readonly registration: { readonly id: number; readonly pool: SharedArrayBuffer; readonly pieceHashes: Uint8Array };
  readonly index: number;
  /** A view into the registration's pool. */
  readonly bytes: Uint8Array;
  readonly resolve: (ok: boolean) => void;
}

/** What a range of pieces on disk came to: a byte per piece (1: on disk and correct), or why it could not be read. */
export type DiskOutcome = { ok: Uint8Array } | { error: StorageError };

/** A range of pieces on disk handed to the pool (a torrent's check), read and hashed by the thread. */
export interface DiskJob {
  readonly kind: "disk";
  readonly range: DiskRange;
  /** The check's: once aborted, a range not yet read is not read on the main thread (see HashPool). */
  readonly signal?: AbortSignal;
  readonly resolve: (outcome: DiskOutcome) => void;
}

export type ThreadJob = HashJob | DiskJob;

export interface HashThreadEvents {
  answered(thread: HashThread, job: HashJob, ok: boolean): void;
  answeredDisk(thread: HashThread, job: DiskJob, outcome: DiskOutcome): void;
  /** The thread answered this job with an error (a bug): the job is the pool's to hash elsewhere. */
  refused(thread: HashThread, job: ThreadJob, message: string): void;
  /** The thread died (or could not start): its unanswered jobs are the pool's to hash elsewhere. */
  failed(thread: HashThread, jobs: ThreadJob[], message: string): void;
}

export class HashThread {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, ThreadJob>();
  /** Registrations this thread has been sent (and not told to forget). */
  readonly #known = new Set<number>();
  #state: "running" | "ended" = "running";

  constructor(
    private readonly events: HashThreadEvents,
    url: string = workerUrl("hash-pool-worker"),
  ) {
    // ref: false: the session's sockets and timers keep the process alive; a hashing thread alone must
    // not (a session that fails to start, e.g. on a port in use, has to exit).
    this.#worker = new Worker(url, { ref: false } as WorkerOptions);
    this.#worker.onmessage = (event: MessageEvent<HashPoolReply>) => this.#reply(event.data);
    this.#worker.onerror = (event) => this.#die(event.message || "error");
    // A worker can also end without an error event (process.exit in it, or killed).
    this.#worker.addEventListener("close", () => this.#die("the thread ended"));
  }

  /** Jobs handed to this thread and not answered yet. */
  get pending(): number {
    return this.#jobs.size;
  }

  /** A check of pieces on disk. */
  sendDisk(id: number, job: DiskJob): void {
    this.#jobs.set(id, job);
    this.#post({ type: "check-disk", job: id, range: job.range });
  }

  /** Pieces to hash together, in one message. */
  sendPieces(batch: readonly { id: number; job: HashJob }[]): void {
    const checks: PieceCheck[] = [];
    for (const { id, job } of batch) {
      const r = job.registration;
      if (!this.#known.has(r.id)) {
        this.#known.add(r.id);
        this.#post({ type: "register", registration: r.id, pool: r.pool, pieceHashes: r.pieceHashes });
      }
      this.#jobs.set(id, job);
      checks.push({ job: id, registration: r.id, index: job.index, offset: job.bytes.byteOffset, length: job.bytes.length });
    }
    if (checks.length === 1) this.#post({ type: "check", ...checks[0]! });
    else if (checks.length > 1) this.#post({ type: "checks", checks });
  }

  /** The registration is released: the thread drops its pool once the jobs already sent for it are answered. */
  forget(registration: number): void {
    if (this.#known.delete(registration)) this.#post({ type: "unregister", registration });
  }

  /** Ends the thread now; its unanswered jobs are returned for the caller to hash. */
  end(): ThreadJob[] {
    if (this.#state === "ended") return [];
    this.#state = "ended";
    this.#worker.terminate();
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    return jobs;
  }

  #post(message: HashPoolRequest): void {
    this.#worker.postMessage(message);
  }

  #reply(m: HashPoolReply): void {
    if (m.type === "results") {
      // Every job is taken before any is answered: an answer may lead to more jobs for this thread.
      const jobs = m.jobs.map((id) => this.#take(id));
      jobs.forEach((job, i) => this.#answer(job, m.oks[i] === true));
      return;
    }
    const job = this.#take(m.job);
    if (!job) return;
    if (m.type === "error") this.events.refused(this, job, m.message);
    else if (m.type === "result" && job.kind === "piece") this.events.answered(this, job, m.ok);
    else if (m.type === "disk-result" && job.kind === "disk") this.events.answeredDisk(this, job, { ok: m.ok });
    else if (m.type === "disk-error" && job.kind === "disk") {
      this.events.answeredDisk(this, job, { error: new StorageError(m.code as StorageErrorCode, m.message) });
    } else this.events.refused(this, job, `reply ${m.type} to a ${job.kind} job`);
  }

  /** Removes job `id`; null when it is not this thread's. */
  #take(id: number): ThreadJob | null {
    const job = this.#jobs.get(id);
    if (!job) return null;
    this.#jobs.delete(id);
    return job;
  }

  #answer(job: ThreadJob | null, ok: boolean): void {
    if (job?.kind === "piece") this.events.answered(this, job, ok);
    else if (job) this.events.refused(this, job, `reply results to a ${job.kind} job`);
  }

  #die(message: string): void {
    if (this.#state === "ended") return; // ended by us: nothing lost
    this.events.failed(this, this.end(), message);
  }
}
