// Collects resume data in memory (piece-verified marks, totals) for every torrent of the process and
// writes it in one transaction per flush: every `intervalMs` after the first change, at once when
// `maxPieces` marks are waiting, and on close. Never a transaction per piece or per block.
//
// The caller's side of the contract (see resume-plan.ts for why it makes restarts safe):
//  - writeStarted(piece) before a verified piece's bytes go to the files, then markVerified(piece) once
//    the write completed, or writeAbandoned(piece) if it failed. A piece is never marked before both its
//    hash check and its write are done.
//  - track() a torrent with the bitfield it trusts (after planResume and the re-checks), before marking.
// A flush stamps (stat) the files whose pieces it commits, but never a file with a write under way: its
// old stamp stays, so a restart re-checks that file rather than trusting an unmarked write.
import { Bitfield } from "../../shared/bitfield.ts";
import { infoHashToHex, type InfoHash } from "../../shared/ids.ts";
import { filesOfPiece, stampFile, type ResumeLayout } from "./resume-plan.ts";
import type { ResumeUpdate, StateStore } from "./state-store.ts";

export interface WriterLayout extends ResumeLayout {
  /** Absolute paths, for stamping; the storage layer's FileSpan fits. */
  readonly files: readonly { readonly path: string; readonly offset: number; readonly length: number }[];
}

export interface ResumeWriterOptions {
  /** Longest a change waits before its flush (default 1000 ms). */
  intervalMs?: number;
  /** Flush at once when this many pieces are marked and not yet written (default 256). */
  maxPieces?: number;
  /** After each commit: the pieces it made durable, per torrent (hex info hash). */
  onCommit?: (pieces: ReadonlyMap<string, readonly number[]>) => void;
  /** A flush on the timer failed (disk full...); the data stays pending and is tried again. Default: logs. */
  onError?: (error: unknown) => void;
}

interface Tracked {
  readonly infoHash: InfoHash;
  readonly layout: WriterLayout;
  bitfield: Bitfield;
  uploaded: number;
  downloaded: number;
  /** Files whose stamp is behind: pieces in them were marked, or the bitfield was replaced. */
  readonly staleFiles: Set<number>;
  /** File index -> writes under way touching it. */
  readonly writing: Map<number, number>;
  /** Marked since the last flush. */
  newPieces: number[];
  dirty: boolean;
  /** Let go once nothing of it is pending (release()). */
  released: boolean;
}

export class ResumeWriter {
  readonly #store: StateStore;
  readonly #intervalMs: number;
  readonly #maxPieces: number;
  readonly #onCommit: ResumeWriterOptions["onCommit"];
  readonly #onError: (error: unknown) => void;
  readonly #torrents = new Map<string, Tracked>();
  #pendingPieces = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushes = 0;
  #closed = false;

  constructor(store: StateStore, options: ResumeWriterOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#maxPieces = options.maxPieces ?? 256;
    this.#onCommit = options.onCommit;
    this.#onError = options.onError ?? ((error) => console.error("btpeer: saving resume data failed:", error));
  }

  /** Transactions this writer committed. */
  get flushes(): number {
    return this.#flushes;
  }

  /**
   * Starts keeping `infoHash`'s resume data, from a bitfield every bit of which is on disk now. `stored`:
   * the state holds this already, stamps and all (a dormant torrent made again), so nothing is written
   * until it changes, and a file changed meanwhile keeps the old stamp that makes a restart check it.
   */
  track(infoHash: InfoHash, layout: WriterLayout, start: { bitfield: Bitfield; uploaded: number; downloaded: number }, stored = false): void {
    this.#open();
    if (start.bitfield.pieceCount !== layout.pieceCount) throw new RangeError("bitfield and layout differ in piece count");
    const released = this.#torrents.get(infoHashToHex(infoHash));
    if (stored && released?.released) {
      released.released = false; // its pending data is still to be written
      return;
    }
    this.#torrents.set(infoHashToHex(infoHash), {
      infoHash,
      layout,
      bitfield: new Bitfield(layout.pieceCount, start.bitfield.bytes),
      uploaded: start.uploaded,
      downloaded: start.downloaded,
      staleFiles: new Set(stored ? [] : layout.files.keys()), // the first flush stamps every file as it is now
      writing: new Map(),
      newPieces: [],
      dirty: !stored,
      released: false,
    });
    if (!stored) this.#arm();
  }

  /** Whether it is kept (tracked, or released with data still to write). */
  tracks(infoHash: InfoHash): boolean {
    return this.#torrents.has(infoHashToHex(infoHash));
  }

  /** Stops keeping it (removed from the client); nothing pending for it is written. */
  forget(infoHash: InfoHash): void {
    this.#torrents.delete(infoHashToHex(infoHash));
  }

  /**
   * Stops keeping it once what is pending for it is written (a torrent gone dormant, which changes nothing
   * until it is made again and tracked anew): at once if nothing is, else after the flush that writes it.
   */
  release(infoHash: InfoHash): void {
    const t = this.#torrents.get(infoHashToHex(infoHash));
    if (!t) return;
    if (t.dirty || t.writing.size > 0) t.released = true;
    else this.#torrents.delete(infoHashToHex(infoHash));
  }

  writeStarted(infoHash: InfoHash, piece: number): void {
    const t = this.#get(infoHash);
    for (const f of filesOfPiece(t.layout, piece)) t.writing.set(f, (t.writing.get(f) ?? 0) + 1);
  }

  writeAbandoned(infoHash: InfoHash, piece: number): void {
    const t = this.#get(infoHash);
    this.#endWrite(t, piece);
    this.#touch(t);
  }

  /** Piece `piece` was hashed right and its write completed. May flush, so may throw a StateError (disk full). */
  markVerified(infoHash: InfoHash, piece: number): void {
    const t = this.#get(infoHash);
    this.#endWrite(t, piece);
    t.bitfield.set(piece);
    t.newPieces.push(piece);
    this.#pendingPieces++;
    this.#touch(t);
    if (this.#pendingPieces >= this.#maxPieces) this.flush();
  }

  /** The bitfield after a re-check; every file is stamped again at the next flush. */
  replaceBitfield(infoHash: InfoHash, bitfield: Bitfield): void {
    const t = this.#get(infoHash);
    t.bitfield = new Bitfield(t.layout.pieceCount, bitfield.bytes);
    for (const f of t.layout.files.keys()) t.staleFiles.add(f);
    t.dirty = true;
    this.#arm();
  }

  /** Totals since the torrent was added (not per session). */
  setTotals(infoHash: InfoHash, uploaded: number, downloaded: number): void {
    const t = this.#get(infoHash);
    t.uploaded = uploaded;
    t.downloaded = downloaded;
    t.dirty = true;
    this.#arm();
  }

  /** Writes everything pending in one transaction now; returns how many torrents it wrote. */
  flush(): number {
    this.#open();
    this.#disarm();
    const dirty = [...this.#torrents.values()].filter((t) => t.dirty);
    if (dirty.length === 0) return 0;
    const stamped = new Map<Tracked, number[]>();
    const updates: ResumeUpdate[] = dirty.map((t) => {
      const files = [...t.staleFiles].filter((f) => !t.writing.get(f));
      stamped.set(t, files);
      return {
        infoHash: t.infoHash,
        pieceCount: t.layout.pieceCount,
        bitfield: t.bitfield.bytes.slice(),
        uploaded: t.uploaded,
        downloaded: t.downloaded,
        files: files.map((index) => ({ index, stamp: stampFile(t.layout.files[index]!.path) })),
      };
    });
    this.#store.writeResume(updates); // throws: everything stays pending
    this.#flushes++;
    const committed = new Map<string, readonly number[]>();
    for (const t of dirty) {
      for (const f of stamped.get(t)!) t.staleFiles.delete(f);
      committed.set(infoHashToHex(t.infoHash), t.newPieces);
      t.newPieces = [];
      // Files skipped for a write under way get their stamp once that write ends (it touches them).
      t.dirty = false;
      if (t.released && t.writing.size === 0) this.#torrents.delete(infoHashToHex(t.infoHash));
    }
    this.#pendingPieces = 0;
    this.#onCommit?.(committed);
    return dirty.length;
  }

  /** Flushes and stops; later calls throw. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }

  #touch(t: Tracked): void {
    t.dirty = true;
    this.#arm();
  }

  #endWrite(t: Tracked, piece: number): void {
    for (const f of filesOfPiece(t.layout, piece)) {
      t.staleFiles.add(f);
      const n = (t.writing.get(f) ?? 0) - 1;
      if (n > 0) t.writing.set(f, n);
      else t.writing.delete(f);
    }
  }

  #get(infoHash: InfoHash): Tracked {
    this.#open();
    const t = this.#torrents.get(infoHashToHex(infoHash));
    if (!t) throw new Error(`resume writer: torrent ${infoHashToHex(infoHash)} is not tracked`);
    return t;
  }

  #open(): void {
    if (this.#closed) throw new Error("resume writer is closed");
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.flush();
      } catch (error) {
        this.#onError(error);
        this.#arm();
      }
    }, this.#intervalMs);
    // The writer never keeps a process alive on its own; close() flushes what is left.
    this.#timer.unref?.();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
