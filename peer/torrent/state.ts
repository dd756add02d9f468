// A torrent's lifecycle as one explicit state, with the transitions it may take in one table: a move the
// table does not allow is a bug in the caller, and throws.

export type TorrentState =
  /** Fetching pieces (and serving those it has). */
  | "downloading"
  /** Every piece verified and on disk: serving only. */
  | "seeding"
  /** Ended by stop(): connections closed, files closed (or closing). */
  | "stopped"
  /** Ended by a fatal error (disk, tracker, ...), which was reported as an `error` event. */
  | "error";

const NEXT: Record<TorrentState, readonly TorrentState[]> = {
  downloading: ["seeding", "stopped", "error"],
  seeding: ["stopped", "error"],
  stopped: [],
  error: [],
};

export class TorrentLifecycle {
  constructor(private current: TorrentState) {}

  get state(): TorrentState {
    return this.current;
  }

  /** Still serving peers: neither stopped nor failed. */
  get live(): boolean {
    return this.current === "downloading" || this.current === "seeding";
  }

  enter(next: TorrentState): void {
    if (!NEXT[this.current].includes(next)) throw new Error(`torrent state: ${this.current} → ${next} is not a transition`);
    this.current = next;
  }
}
