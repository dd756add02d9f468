// The client's hashing threads, shared by all its torrents. SHA-1 is most of what receiving costs the main
// thread (≈0.55 s of ≈1.1 s per GiB, see bench:swarm): with it on other cores, the main thread goes back to
// the sockets at once. A downloading torrent registers its shared piece pool and gets a PieceHasher that
// checks finished pieces where they lie; a seeding or paused torrent registers nothing, so thousands of them
// cost no thread. Jobs go to the thread with the fewest pending, so one torrent can use every thread and
// many torrents share them. If a thread fails, its pieces are hashed on the main thread: a download never
// stalls on it. A torrent's check of its data on disk (verify/pool-check.ts) sends ranges of pieces that a
// thread reads and hashes itself, so thousands of torrents checked by one client use these same threads.
//
// Finished pieces go to a thread in batches of up to four, hashed together (sha1-native.ts: four pieces at
// once hash at 2.4x the rate of one on AMD Zen 4) and answered in one message. A batch goes when it is full
// or BATCH_WAIT_MS after its first piece: at 1 GB/s of 1 MiB pieces four come in about 4 ms, and a slower
// download's pieces wait that long at most, which nothing downstream notices (the piece's slot is held a
// few milliseconds longer, its `have` goes out as much later).
import { availableParallelism } from "node:os";
import { StorageError } from "../storage/errors.ts";
import { checkRange, type DiskRange } from "./disk-check.ts";
import { matchesPieceHash } from "./hash-pool-protocol.ts";
import { HashThread, type DiskJob, type DiskOutcome, type HashJob, type HashThreadEvents, type ThreadJob } from "./hash-thread.ts";

export interface HashPoolOptions {
  /** Hashing threads at most (default: defaultHashThreads()). */
  threads?: number;
  /** Threads end after this long with no piece to hash (default 10 s); they start again on the next one. */
  idleMs?: number;
  /** Tests: the thread's code (default: hash-pool-worker). */
  workerUrl?: string;
}

/**
 * One thread per core but one: the main thread (sockets, protocol, disk writes handed to the OS) keeps a
 * core of its own, and a thread hashes ≈1.8 GB/s, faster than one process receives. At least one.
 */
export function defaultHashThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

const DEFAULT_IDLE_MS = 10_000;
/** Pieces hashed together at most (sha1_x4's lanes). */
const BATCH_PIECES = 4;
/** How long a batch's first piece waits for the others. */
const BATCH_WAIT_MS = 5;
/** After this many thread failures the pool hashes on the main thread for good (a thread that cannot start would fail on every piece). */
const MAX_THREAD_FAILURES = 3;

// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digestScratch = new Uint8Array(64);
let mainThreadHasher: Bun.CryptoHasher | null = null;

/** Hashes on the calling thread: when the threads are gone, or for a released registration. */
function hashHere(bytes: Uint8Array, pieceHashes: Uint8Array, index: number): boolean {
  mainThreadHasher ??= new Bun.CryptoHasher("sha1");
  mainThreadHasher.update(bytes);
  mainThreadHasher.digest(digestScratch);
  return matchesPieceHash(digestScratch, pieceHashes, index);
}

/** Answers a job on the calling thread. A disk range whose check has ended is not read (nothing found). */
function runHere(job: ThreadJob): void {
  if (job.kind === "piece") return job.resolve(hashHere(job.bytes, job.registration.pieceHashes, job.index));
  if (job.signal?.aborted) return job.resolve({ ok: new Uint8Array(job.range.count) });
  try {
    job.resolve({ ok: checkRange(job.range) });
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    job.resolve({ error });
  }
}

/** A torrent's piece pool registered with the HashPool, from take of its piece memory to giving it back. */
export class PieceHasher {
  #state: "registered" | "released" = "registered";
  #pending = 0;

  constructor(
    private readonly hashing: HashPool,
    readonly id: number,
    readonly pool: SharedArrayBuffer,
    readonly pieceHashes: Uint8Array,
  ) {}

  /** Pieces handed over and not answered yet. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * True when `bytes` (a view into the registered pool) hash to piece `index`'s SHA-1. Never rejects, and
   * resolves exactly once. After `release()` the piece is hashed on the calling thread.
   */
  check(index: number, bytes: Uint8Array): Promise<boolean> {
    if (bytes.buffer !== this.pool) throw new Error("PieceHasher.check: bytes must be a view into the registered shared pool");
    if (this.#state === "released") return Promise.resolve(hashHere(bytes, this.pieceHashes, index));
    this.#pending++;
    return new Promise((resolve) => {
      this.hashing.submit({
        kind: "piece",
        registration: this,
        index,
        bytes,
        resolve: (ok) => {
          this.#pending--;
          resolve(ok);
        },
      });
    });
  }

  /**
   * Gives the registration up (the torrent gives its memory back). Checks already made still resolve, once,
   * with their real answer: their thread answers them before it reads the unregister behind them (or the
   * main thread hashes them if the thread dies first). The pool's memory stays referenced until then.
   */
  release(): void {
    if (this.#state === "released") return;
    this.#state = "released";
    this.hashing.unregister(this);
  }
}

export class HashPool implements HashThreadEvents {
  /** Threads at most. */
  readonly size: number;
  readonly #idleMs: number;
  readonly #workerUrl: string | undefined;
  #threads: HashThread[] = [];
  readonly #registrations = new Set<PieceHasher>();
  #nextRegistration = 1;
  #nextJob = 1;
  #pending = 0;
  #failures = 0;
  /** "main-thread" once threads failed too often: every later piece is hashed by the caller. */
  #mode: "threads" | "main-thread" = "threads";
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #lastActivity = 0;
  /** A disk range was checked since the threads last ended: more checks may follow (a daemon adding torrents). */
  #checkedDisk = false;
  /** Pieces waiting to go to a thread together (counted in #pending). */
  #batch: { id: number; job: HashJob }[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: HashPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.threads ?? defaultHashThreads()));
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#workerUrl = options.workerUrl;
  }

  /** Threads running now (they start with the first piece to hash). */
  get threads(): number {
    return this.#threads.length;
  }

  /** Pieces handed to threads and not answered yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Registered pools (downloading torrents). */
  get registrations(): number {
    return this.#registrations.size;
  }

  /** Registers a torrent's shared piece pool and its pieces' SHA-1s (20 bytes each). */
  register(pool: SharedArrayBuffer, pieceHashes: Uint8Array): PieceHasher {
    const hasher = new PieceHasher(this, this.#nextRegistration++, pool, pieceHashes);
    this.#registrations.add(hasher);
    return hasher;
  }

  /** Ends every thread now; pieces they held are hashed here first. Threads start again on the next piece. */
  stopThreads(): void {
    this.#hashHere(this.#takeBatch().map((b) => b.job));
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#checkedDisk = false;
    const threads = this.#threads;
    this.#threads = [];
    for (const thread of threads) this.#hashHere(thread.end());
  }

  /**
   * Reads and hashes pieces [range.first, + count) on disk on a thread (on the main thread when no thread can
   * run). Never rejects: a range that cannot be read resolves with its StorageError. `signal` aborted before
   * the range is read on the main thread skips it.
   */
  checkDisk(range: DiskRange, signal?: AbortSignal): Promise<DiskOutcome> {
    this.#checkedDisk = true;
    return new Promise((resolve) => this.submit({ kind: "disk", range, signal, resolve }));
  }

  /** PieceHasher.check's and checkDisk's way in. */
  submit(job: ThreadJob): void {
    if (this.#mode === "main-thread") return runHere(job);
    if (job.kind === "piece") {
      // A batch's first piece starts a thread if none runs, so it is up by the time the batch goes.
      if (this.#batch.length === 0 && this.#threads.length === 0 && !this.#pick()) return runHere(job);
      this.#pending++;
      this.#batch.push({ id: this.#nextJob++, job });
      if (this.#batch.length >= BATCH_PIECES) this.#sendBatch();
      else this.#batchTimer ??= setTimeout(() => this.#sendBatch(), BATCH_WAIT_MS);
      return;
    }
    const thread = this.#pick();
    if (!thread) return runHere(job);
    this.#pending++;
    thread.sendDisk(this.#nextJob++, job);
  }

  #takeBatch(): { id: number; job: HashJob }[] {
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#batchTimer = null;
    const batch = this.#batch;
    this.#batch = [];
    return batch;
  }

  #sendBatch(): void {
    const batch = this.#takeBatch();
    if (batch.length === 0) return;
    const thread = this.#pick();
    if (thread) thread.sendPieces(batch);
    else this.#hashHere(batch.map((b) => b.job));
  }

  /** PieceHasher.release's way in. */
  unregister(hasher: PieceHasher): void {
    // Its waiting pieces go first: a thread must know the pool when their checks arrive.
    if (this.#batch.some((b) => b.job.registration === hasher)) this.#sendBatch();
    this.#registrations.delete(hasher);
    for (const thread of this.#threads) thread.forget(hasher.id);
    this.#maybeIdle();
  }

  answered(_thread: HashThread, job: HashJob, ok: boolean): void {
    this.#pending--;
    job.resolve(ok);
    this.#maybeIdle();
  }

  answeredDisk(_thread: HashThread, job: DiskJob, outcome: DiskOutcome): void {
    this.#pending--;
    job.resolve(outcome);
    this.#maybeIdle();
  }

  refused(_thread: HashThread, job: ThreadJob, message: string): void {
    if (process.env.BTPEER_DEBUG) console.error(`hashing thread refused a job (${message}); hashed on the main thread`);
    this.#pending--;
    runHere(job);
    this.#maybeIdle();
  }

  failed(thread: HashThread, jobs: ThreadJob[], message: string): void {
    this.#threads = this.#threads.filter((t) => t !== thread);
    this.#hashHere(jobs);
    this.#threadFailed(message);
    this.#maybeIdle();
  }

  #threadFailed(message: string): void {
    if (++this.#failures >= MAX_THREAD_FAILURES) this.#mode = "main-thread";
    if (process.env.BTPEER_DEBUG) {
      const then = this.#mode === "main-thread" ? "hashing on the main thread from now on" : "its pieces hashed on the main thread";
      console.error(`hashing thread failed (${message}); ${then}`);
    }
    if (this.#mode === "main-thread") this.stopThreads();
  }

  #hashHere(jobs: ThreadJob[]): void {
    for (const job of jobs) {
      this.#pending--;
      runHere(job);
    }
  }

  /** The thread with the fewest pending; a new one (up to `size`) when every running one is busy. */
  #pick(): HashThread | null {
    if (this.#mode === "main-thread") return null;
    let best: HashThread | null = null;
    for (const thread of this.#threads) if (!best || thread.pending < best.pending) best = thread;
    if (best && (best.pending === 0 || this.#threads.length >= this.size)) return best;
    try {
      const thread = new HashThread(this, this.#workerUrl);
      this.#threads.push(thread);
      return thread;
    } catch (error) {
      this.#threadFailed((error as Error).message);
      return this.#pick(); // another try, until failures turn the pool to the main thread
    }
  }

  /**
   * With nothing pending: no registration left ends the threads at once (nothing could use them), unless
   * they checked data on disk (the next torrent added is likely checked soon: a thread started per check
   * is what made adding thousands of torrents slow); else they end after `idleMs` with nothing to do.
   */
  #maybeIdle(): void {
    if (this.#pending > 0 || this.#threads.length === 0) return;
    if (this.#registrations.size === 0 && !this.#checkedDisk) return this.stopThreads();
    this.#lastActivity = performance.now();
    this.#idleTimer ??= this.#armIdle(this.#idleMs);
  }

  #armIdle(ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.#pending > 0) return; // busy again: the next quiet moment arms it anew
      const quiet = performance.now() - this.#lastActivity;
      if (quiet >= this.#idleMs) this.stopThreads();
      else this.#idleTimer = this.#armIdle(this.#idleMs - quiet);
    }, ms);
    timer.unref?.();
    return timer;
  }
}
