// One hashing thread of the HashPool, seen from the main thread: its worker, the jobs it holds, and which
// registered piece pools it has been told of (a pool is sent to a thread with its first job there, so an
// idle thread never holds a torrent's memory, and a new thread needs no catching up).
//
// Pieces go out in pairs when they can: the thread hashes two pieces together faster than one after the other
// (sha1-native.ts). A piece that arrives while the thread is busy is held here instead of queued behind the
// work; the next piece makes a pair with it ("check2"), or it goes alone the moment the thread has nothing
// left to do. So no piece waits longer than it would have in the thread's queue.
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
  /** Messages with jobs sent and not fully answered (a "check2" counts once): the thread is busy while > 0. */
  #busy = 0;
  /** Jobs of each message sent, not answered yet, by job id: a message is done when its last job is. */
  readonly #messageOf = new Map<number, { left: number }>();
  /** A piece that came while the thread was busy, waiting for a partner or for the thread to be free. */
  #held: PieceCheck | null = null;

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

  send(id: number, job: ThreadJob): void {
    if (job.kind === "disk") {
      this.#jobs.set(id, job);
      this.#busy++;
      this.#messageOf.set(id, { left: 1 });
      this.#post({ type: "check-disk", job: id, range: job.range });
      return;
    }
    const r = job.registration;
    if (!this.#known.has(r.id)) {
      this.#known.add(r.id);
      this.#post({ type: "register", registration: r.id, pool: r.pool, pieceHashes: r.pieceHashes });
    }
    this.#jobs.set(id, job);
    const check: PieceCheck = { job: id, registration: r.id, index: job.index, offset: job.bytes.byteOffset, length: job.bytes.length };
    if (this.#busy === 0) return this.#sendChecks(check);
    if (!this.#held) {
      this.#held = check;
      return;
    }
    const first = this.#held;
    this.#held = null;
    this.#sendChecks(first, check);
  }

  #sendChecks(first: PieceCheck, second?: PieceCheck): void {
    const message = { left: second ? 2 : 1 };
    this.#busy++;
    this.#messageOf.set(first.job, message);
    if (!second) return this.#post({ type: "check", ...first });
    this.#messageOf.set(second.job, message);
    this.#post({ type: "check2", first, second });
  }

  /** The registration is released: the thread drops its pool once the jobs already sent for it are answered. */
  forget(registration: number): void {
    // A held piece of it goes first: the thread must know the pool when its check arrives.
    if (this.#held?.registration === registration) this.#sendHeld();
    if (this.#known.delete(registration)) this.#post({ type: "unregister", registration });
  }

  #sendHeld(): void {
    const held = this.#held;
    this.#held = null;
    if (held) this.#sendChecks(held);
  }

  /** Ends the thread now; its unanswered jobs are returned for the caller to hash. */
  end(): ThreadJob[] {
    if (this.#state === "ended") return [];
    this.#state = "ended";
    this.#worker.terminate();
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    this.#messageOf.clear();
    this.#held = null;
    this.#busy = 0;
    return jobs;
  }

  #post(message: HashPoolRequest): void {
    this.#worker.postMessage(message);
  }

  #reply(m: HashPoolReply): void {
    if (m.type === "result2") {
      // Both jobs are taken first: the thread is free, and a held piece goes out before either is answered.
      const first = this.#take(m.first);
      const second = this.#take(m.second);
      this.#answer(first, m.firstOk);
      this.#answer(second, m.secondOk);
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

  /** Removes job `id` (null when it is not this thread's); the thread is free once its message's last job is. */
  #take(id: number): ThreadJob | null {
    const job = this.#jobs.get(id);
    if (!job) return null;
    this.#jobs.delete(id);
    const message = this.#messageOf.get(id);
    this.#messageOf.delete(id);
    if (message && --message.left === 0 && --this.#busy === 0) this.#sendHeld();
    return job;
  }

  #answer(job: ThreadJob | null, ok: boolean): void {
    if (job?.kind === "piece") this.events.answered(this, job, ok);
    else if (job) this.events.refused(this, job, `reply result2 to a ${job.kind} job`);
  }

  #die(message: string): void {
    if (this.#state === "ended") return; // ended by us: nothing lost
    this.events.failed(this, this.end(), message);
  }
}
