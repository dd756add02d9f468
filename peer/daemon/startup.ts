// Start-up from the saved state: the stored torrents are read a page at a time (StateStore.torrentPages),
// each page's torrents built and started, and the next page read once each of them is under way
// (startup-page.ts). A stored magnet link fetches its metadata again; a record that does not parse is left
// out with a line in the log. Apart from the Daemon (service.ts), which keeps DaemonControl's calls.
import { toHex } from "../../shared/bytes.ts";
import type { MagnetLink } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import type { DaemonTorrents } from "./daemon-torrents.ts";
import { storedMagnet } from "./magnet-entry.ts";
import { StartupPage } from "./startup-page.ts";
import type { StateStore, TorrentRecord } from "./state-store.ts";
import { type EntryContext, TorrentEntry } from "./torrent-entry.ts";

/** At start-up the stored torrents' first announces go out this far apart (10,000 torrents: over 100 s). */
const ANNOUNCE_SPREAD_MS = 10;
/** Stored torrents read, built and started at a time at start-up (startup-page.ts). */
const STARTUP_PAGE = 200;

/** What start-up uses of the daemon. */
export interface StartupHost {
  readonly store: StateStore;
  readonly torrents: DaemonTorrents;
  /** The context every entry shares. */
  entryContext(): EntryContext;
  /** Fetches a magnet link's metadata, as for one added. */
  startMagnet(link: MagnetLink, record: TorrentRecord): void;
  /** Whether the daemon closed: start-up reads no further page. */
  closed(): boolean;
  log(line: string): void;
}

export class Startup {
  /** The page of stored torrents whose starts start-up waits for; null between pages and after. */
  private page: StartupPage | null = null;

  constructor(private readonly host: StartupHost) {}

  /** An entry's event: its start is under way once it says checking, started, error or stopped. */
  heard(event: TorrentEvent, entry: object): void {
    const e = event.event;
    if (this.page && (e === "checking" || e === "started" || e === "error" || e === "stopped")) this.page.started(entry);
  }

  /** Starts the stored torrents a page at a time; each page's rows and garbage can go before the next is read. */
  async run(): Promise<void> {
    const { host } = this;
    await null; // after Daemon.open() returned: its caller subscribes first
    const pages = host.store.torrentPages(STARTUP_PAGE);
    let started = 0;
    while (!host.closed()) {
      const next = pages.next();
      if (next.done) break;
      const page = new StartupPage();
      for (const record of next.value) {
        const hex = toHex(record.infoHash);
        if (host.torrents.has(hex)) continue; // added while start-up read the pages before
        if (record.state === "metadata") {
          this.restartMagnet(record);
          continue;
        }
        let meta: Metainfo;
        try {
          meta = parseMetainfo(record.metainfo);
        } catch (error) {
          host.log(`${host.store.path}: a stored torrent does not parse (${(error as Error).message}); left out`);
          continue;
        }
        const entry = this.start(meta, record, started++ * ANNOUNCE_SPREAD_MS);
        if (entry.torrent) page.add(entry);
      }
      this.page = page;
      await page.underWay();
      this.page = null;
      await new Promise((resolve) => setImmediate(resolve)); // the API and the sockets between pages
    }
    // Start-up's garbage (records, parsing, resume plans) collected at once: left to the collector, its
    // pages stay in the process while it idles.
    if (!host.closed()) Bun.gc(true);
  }

  private start(meta: Metainfo, record: TorrentRecord, announceDelayMs: number): TorrentEntry {
    const entry = new TorrentEntry(this.host.entryContext(), meta, record);
    this.host.torrents.addEntry(entry);
    entry.startStored(announceDelayMs);
    return entry;
  }

  /** A stored magnet link whose metadata had not arrived: fetched again. */
  private restartMagnet(record: TorrentRecord): void {
    const link = storedMagnet(this.host.store, record);
    if (typeof link === "string") return this.host.log(`${this.host.store.path}: ${link}; left out`);
    this.host.startMagnet(link, record);
  }
}
