// One budget of open data files for the whole process, least recently used closed first. Each FileSet
// caps its own torrent's files too, but a daemon with 10,000 torrents that each read a file once (the
// check of a torrent added through the API) would otherwise keep 10,000 files open, and 10,000 output
// folder descriptors beside them, until it ran out of descriptors (seen at 9,990 torrents, limit 20,000).
// A FileSet whose last file is closed here lets its folder's descriptor go as well (reopened, and checked
// to be the same folder, at its next open), so the folders held stay within the budget too.

/** What the budget asks of a file set: close file `index` if it can (no write or upload pins it). */
export interface OpenFileOwner {
  evict(index: number): boolean;
}

interface Entry {
  readonly owner: OpenFileOwner;
  readonly index: number;
}

/** Data files open across every torrent at most (libtorrent's file_pool_size has the same role). */
export const DEFAULT_MAX_OPEN_FILES = 512;

export class OpenFiles {
  /** Least recently used first (Map keeps insertion order; a use moves the entry to the end). */
  readonly #entries = new Map<OpenFileOwner, Map<number, Entry>>();
  readonly #order = new Set<Entry>();

  constructor(public limit = DEFAULT_MAX_OPEN_FILES) {}

  get size(): number {
    return this.#order.size;
  }

  /** The entry `use` put last (the most recently used), or null once it left. */
  #newest: Entry | null = null;

  /** True when file `index` of `owner` is the most recently used of all: `use` would change nothing. */
  isNewest(owner: OpenFileOwner, index: number): boolean {
    const newest = this.#newest;
    return newest !== null && newest.owner === owner && newest.index === index;
  }

  /** A file just opened (or used again): closes the least recently used others beyond the limit. */
  use(owner: OpenFileOwner, index: number): void {
    let files = this.#entries.get(owner);
    if (!files) {
      files = new Map();
      this.#entries.set(owner, files);
    }
    let entry = files.get(index);
    if (entry) this.#order.delete(entry);
    else {
      entry = { owner, index };
      files.set(index, entry);
    }
    this.#order.add(entry);
    this.#newest = entry;
    if (this.#order.size > this.limit) this.#shrink(entry);
  }

  /** The owner closed the file itself. */
  closed(owner: OpenFileOwner, index: number): void {
    const files = this.#entries.get(owner);
    const entry = files?.get(index);
    if (!entry) return;
    if (entry === this.#newest) this.#newest = null;
    this.#order.delete(entry);
    files!.delete(index);
    if (files!.size === 0) this.#entries.delete(owner);
  }

  /** The owner closed all its files. */
  closedAll(owner: OpenFileOwner): void {
    if (this.#newest?.owner === owner) this.#newest = null;
    for (const entry of this.#entries.get(owner)?.values() ?? []) this.#order.delete(entry);
    this.#entries.delete(owner);
  }

  #shrink(keep: Entry): void {
    for (const entry of this.#order) {
      if (this.#order.size <= this.limit) return;
      if (entry === keep) continue;
      // The owner calls closed() when it lets the file go; a pinned file stays, and the next one is tried.
      entry.owner.evict(entry.index);
    }
  }
}

/** The process's budget, shared by every torrent's files. */
export const openFiles = new OpenFiles();
