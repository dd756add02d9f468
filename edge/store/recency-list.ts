// A list in order of last use whose entries carry their own links, so moving one to the newest end
// allocates nothing and needs no Map delete and set. The embedded store keeps a swarm's peers by last
// announce and its swarms by last activity this way: the oldest, the ones to expire or evict, sit at
// the front.

export interface RecencyLinks<T> {
  /** Neighbours in the list (null at either end, and while not in a list). */
  older: T | null;
  newer: T | null;
}

export class RecencyList<T extends RecencyLinks<T>> {
  #oldest: T | null = null;
  #newest: T | null = null;

  get oldest(): T | null {
    return this.#oldest;
  }

  get newest(): T | null {
    return this.#newest;
  }

  /** Adds `entry` (not in the list) at the newest end. */
  append(entry: T): void {
    entry.older = this.#newest;
    entry.newer = null;
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }

  remove(entry: T): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    entry.older = null;
    entry.newer = null;
  }

  /** Moves `entry` (in the list) to the newest end. */
  touch(entry: T): void {
    if (this.#newest === entry) return;
    this.remove(entry);
    this.append(entry);
  }
}
