// A torrent's lifecycle as one explicit state, with the transitions it may take in one table: a move the
// table does not allow is a bug in the caller, and throws.

export type TorrentState =
  /** Hashing what is on disk (at start, or asked to re-check): no peers, no tracker. */
  | "checking"
  /** Fetching pieces (and serving those it has). */
  | "downloading"
  /** Every wanted piece verified and on disk (files may be skipped): serving only. */
  | "seeding"
  /** Kept but idle: connections closed, `stopped` announced; resume() goes back to work. */
  | "paused"
  /** Ended by stop(): connections closed, files closed (or closing). */
  | "stopped"
  /** Ended by a fatal error (disk, tracker, ...), which was reported as an `error` event. */
  | "error";

const NEXT: Record<TorrentState, readonly TorrentState[]> = {
  checking: ["downloading", "seeding", "paused", "stopped", "error"],
  downloading: ["seeding", "paused", "checking", "stopped", "error"],
  // Back to fetching when a skipped file is wanted again (seeding means every wanted piece is here).
  seeding: ["downloading", "paused", "checking", "stopped", "error"],
  paused: ["downloading", "seeding", "checking", "stopped", "error"],
  stopped: [],
  error: [],
};

export class TorrentLifecycle {
  constructor(private current: TorrentState) {}

  get state(): TorrentState {
    return this.current;
  }

  /** Serving peers: downloading or seeding. */
  get live(): boolean {
    return this.current === "downloading" || this.current === "seeding";
  }

  /** Not ended: neither stopped nor failed. */
  get kept(): boolean {
    return this.current !== "stopped" && this.current !== "error";
  }

  enter(next: TorrentState): void {
    if (!NEXT[this.current].includes(next)) throw new Error(`torrent state: ${this.current} → ${next} is not a transition`);
    this.current = next;
  }
}
