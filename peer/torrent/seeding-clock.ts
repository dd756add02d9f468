// How long a torrent has seeded this run, for the seed-time goal: its stretches in `seeding` added up (a
// pause, a re-check or a file un-skipped ends one; entering `seeding` again starts the next).

export class SeedingClock {
  /** When the stretch under way began (ms); null while not seeding. */
  #since: number | null = null;
  /** Milliseconds of the stretches before it. */
  #before = 0;

  get running(): boolean {
    return this.#since !== null;
  }

  start(now: number): void {
    this.#since = now;
  }

  stop(now: number): void {
    if (this.#since !== null) this.#before += now - this.#since;
    this.#since = null;
  }

  seconds(now: number): number {
    return (this.#before + (this.#since === null ? 0 : now - this.#since)) / 1000;
  }
}
