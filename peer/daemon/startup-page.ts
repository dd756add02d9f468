// Start-up from the saved state goes a page of torrents at a time (startup.ts): a page's rows are read,
// its torrents built and started, and the next page waits until each of these is under way (its start
// said `checking` or `started`, or it failed). So start-up holds one page of rows, metainfo bytes and
// start-up garbage at a time rather than all of them, and its peak stays near the steady state (10,000
// small torrents: 271 MiB against 177, see bench:daemon). A page waits for no check to finish: a torrent
// whose files changed is hashed while the next pages start.

export class StartupPage {
  private readonly starting = new Set<object>();
  private resolve: (() => void) | null = null;

  /** One entry whose start this page waits for. */
  add(entry: object): void {
    this.starting.add(entry);
  }

  /** One entry is under way (checking, started, or failed). */
  started(entry: object): void {
    this.starting.delete(entry);
    if (this.starting.size === 0) this.resolve?.();
  }

  /** Resolves once every entry added is under way. */
  underWay(): Promise<void> {
    if (this.starting.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.resolve = resolve));
  }
}
