// Verifies finished pieces on a hashing thread, reading them where they lie in the shared piece pool.
// SHA-1 is most of what receiving costs the main thread (≈0.55 s of ≈1.1 s per GiB, see bench:swarm):
// with it on another core, the main thread goes back to the socket at once. If the thread fails, the
// pieces it held (and every later one) are hashed on the main thread instead: a download never stalls on it.
import { workerUrl } from "./verify.ts";
import { matchesPieceHash, type SlotHashReply, type SlotHashRequest } from "./slot-hash-protocol.ts";

interface Pending {
  index: number;
  bytes: Uint8Array;
  resolve: (ok: boolean) => void;
}

// digest(into) needs at least 64 bytes; SHA-1 fills the first 20.
const digestScratch = new Uint8Array(64);

export class SlotHasher {
  readonly #pool: Uint8Array;
  readonly #pieceHashes: Uint8Array;
  #worker: Worker | null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #fallback: Bun.CryptoHasher | null = null;

  constructor(pool: SharedArrayBuffer, pieceHashes: Uint8Array) {
    this.#pool = new Uint8Array(pool);
    this.#pieceHashes = pieceHashes;
    // ref: false: the session's sockets and timers keep the process alive; this thread alone must not
    // (a session that fails to start, e.g. on a port in use, has to exit).
    const worker = new Worker(workerUrl("slot-hash-worker"), { ref: false } as WorkerOptions);
    worker.onmessage = (event: MessageEvent<SlotHashReply>) => this.#reply(event.data);
    worker.onerror = (event) => this.#workerFailed(event.message);
    worker.postMessage({ type: "init", pool, pieceHashes } satisfies SlotHashRequest);
    this.#worker = worker;
  }

  /** Pieces handed over and not answered yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** True when `bytes` (a view into the pool) hash to piece `index`'s SHA-1. Never rejects. */
  check(index: number, bytes: Uint8Array): Promise<boolean> {
    if (bytes.buffer !== this.#pool.buffer) throw new Error("SlotHasher.check: bytes must be a view into the shared pool");
    if (!this.#worker) return Promise.resolve(this.#hashHere(index, bytes));
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, { index, bytes, resolve });
      this.#worker!.postMessage({ type: "check", id, index, offset: bytes.byteOffset, length: bytes.length } satisfies SlotHashRequest);
    });
  }

  /** Ends the thread; pieces still pending are hashed here first. */
  stop(): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#drainHere();
  }

  #reply(m: SlotHashReply): void {
    if (m.type === "error") return this.#workerFailed(m.message);
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    p.resolve(m.ok);
  }

  #workerFailed(message: string): void {
    if (process.env.BTPEER_DEBUG) console.error(`hashing thread failed (${message}); hashing on the main thread`);
    this.stop();
  }

  #drainHere(): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.resolve(this.#hashHere(p.index, p.bytes));
    }
  }

  #hashHere(index: number, bytes: Uint8Array): boolean {
    this.#fallback ??= new Bun.CryptoHasher("sha1");
    this.#fallback.update(bytes);
    this.#fallback.digest(digestScratch);
    return matchesPieceHash(digestScratch, this.#pieceHashes, index);
  }
}
