// The daemon: one Client (one peer port for every torrent), the state store, and the ResumeWriter that
// batches resume data into it. Torrents are added through DaemonControl (the API, the watch folder), kept
// in the store with their .torrent bytes, save path and options, and resumed at the next start from their
// resume data: unchanged files are trusted, only what changed (or was in flight) is hashed again.
import { storedSettings, storeSettings, type DaemonSettings } from "./daemon-settings.ts";
import * as path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import type { MagnetLink } from "../../shared/magnet.ts";
import { Client } from "../client/client.ts";
import { StorageError } from "../storage/index.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import {
  type AddTorrentRequest,
  type DaemonControl,
  DaemonError,
  type DaemonEvent,
  type DaemonStats,
  type GlobalLimits,
  type TorrentDetail,
  type TorrentPatch,
  type TorrentSummary,
  type TrackerEdit,
} from "./control.ts";
import { eachItsTier, editTrackers, mergeDuplicateTrackers } from "./daemon-trackers.ts";
import { DaemonDht, type DaemonDhtOptions } from "./daemon-dht.ts";
import {
  DEFAULT_MAX_PEERS,
  DEFAULT_PEERS_PER_TORRENT,
  DEFAULT_POOL_BYTES,
  DEFAULT_TORRENT_POOL_BYTES,
  type DaemonOptions,
  daemonLog,
} from "./daemon-options.ts";
import { deleteTorrentFiles } from "./delete-files.ts";
import { ResumeWriter } from "./resume-writer.ts";
import { StateStore, type TorrentRecord } from "./state-store.ts";
import { type EntryContext, TorrentEntry } from "./torrent-entry.ts";
import { torrentRecord } from "./torrent-record.ts";
import { applySettings, mergeSettings } from "./torrent-settings.ts";
import { detailOf, magnetDetailOf, magnetSummaryOf, summaryOf } from "./views.ts";
import { torrentTotals } from "./daemon-stats.ts";
import { Startup } from "./startup.ts";
import { DormantCollection } from "./dormant-collection.ts";
import { ListCollection } from "./list-collection.ts";
import { DaemonTorrents } from "./daemon-torrents.ts";
import { MagnetEntry, magnetKey, magnetRecord, storeMagnet } from "./magnet-entry.ts";

export class Daemon implements DaemonControl {
  readonly startedAt = Date.now();
  private readonly torrents = new DaemonTorrents();
  private readonly listeners = new Set<(event: DaemonEvent) => void>();
  private dht: DaemonDht | null = null;
  private closed = false;
  private context: EntryContext | undefined;
  private readonly collection = new DormantCollection();
  private readonly listCollection = new ListCollection();
  private readonly startup: Startup;
  /**
   * Resolves once every stored torrent is built and under way (checking, started or failed): read a page
   * at a time after open() returns, so a listener subscribed at once sees their events.
   */
  loaded: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: DaemonOptions,
    readonly store: StateStore,
    private readonly client: Client,
    private readonly writer: ResumeWriter,
    private readonly log: (line: string) => void,
  ) {
    this.startup = new Startup({
      store,
      torrents: this.torrents,
      entryContext: () => this.entryContext(),
      startMagnet: (link, record) => this.startMagnet(link, record),
      closed: () => this.closed,
      log: this.log,
    });
  }

  /**
   * Opens the state (StateError for a state file it cannot use), listens on the peer port (ListenError),
   * and resumes every stored torrent.
   */
  static open(options: DaemonOptions): Daemon {
    const store = StateStore.open(options.stateDir);
    const log = daemonLog(options);
    const client = new Client({
      announce: storedSettings(store, log),
      port: options.port,
      bind: options.bind,
      encryption: options.encryption,
      maxConnections: options.maxPeers ?? DEFAULT_MAX_PEERS,
      poolBytes: options.poolBytes ?? DEFAULT_POOL_BYTES,
    });
    try {
      client.start();
    } catch (error) {
      store.close();
      throw error;
    }
    const writer = new ResumeWriter(store, { intervalMs: options.resumeFlushMs, onError: (error) => log(`saving resume data failed: ${String(error)}`) });
    const daemon = new Daemon(options, store, client, writer, log);
    daemon.loaded = daemon.startup.run();
    return daemon;
  }

  /**
   * Joins the DHT (BEP 5) on the peer port's number, over UDP, from the routing table saved in the state
   * (no router needed when its nodes answer); torrents already running join it at once.
   */
  async startDht(options: DaemonDhtOptions): Promise<void> {
    if (this.dht || this.closed) return;
    const dht = await DaemonDht.start(this.client, this.store, options, this.log);
    if (this.closed) return dht?.close();
    this.dht = dht;
  }

  /** The peer port. */
  get port(): number {
    return this.client.port;
  }

  /** Stops every torrent (each announces `stopped`), writes what is pending, closes the state. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listCollection.stop();
    this.dht?.close(); // its table saved while the node still runs (the client's stop closes it)
    await this.client.stop();
    try {
      this.writer.close();
    } finally {
      this.store.close();
    }
  }

  private startMagnet(link: MagnetLink, record: TorrentRecord): void {
    const hex = toHex(link.infoHash);
    const magnet = new MagnetEntry(this.entryContext(), hex, link, record, (entry) => this.torrents.became(magnet, entry));
    this.torrents.addMagnet(magnet);
    magnet.open();
  }

  private async addMagnet(request: AddTorrentRequest, uri: string): Promise<string> {
    const { link, record } = magnetRecord(request, uri, path.resolve(request.savePath ?? this.options.downloadDir));
    const hex = toHex(link.infoHash);
    mergeDuplicateTrackers(this.torrents, hex, eachItsTier(link.trackers), false);
    this.torrents.refuseAdded(hex, link.name ?? hex);
    storeMagnet(this.store, record, uri, hex);
    this.startMagnet(link, record);
    return hex;
  }

  private emit(event: TorrentEvent, entry: { readonly infoHash: string }): void {
    this.startup.heard(event, entry);
    const tagged = { ...event, infoHash: entry.infoHash } as DaemonEvent;
    for (const listener of this.listeners) listener(tagged);
  }

  // ---- DaemonControl -------------------------------------------------------------------------------

  async add(request: AddTorrentRequest): Promise<string> {
    if ("magnet" in request.source) return this.addMagnet(request, request.source.magnet);
    const { meta, record } = torrentRecord(request, request.source.torrent, path.resolve(request.savePath ?? this.options.downloadDir));
    const hex = toHex(meta.infoHash);
    // A magnet link waiting for this metadata takes it (and the trackers it lacks), as qBittorrent's
    // duplicate add does; the add is still a duplicate, and its own options are not applied.
    if (await this.torrents.magnet(hex)?.handOver(meta)) {
      throw new DaemonError(
        "duplicate",
        `${meta.name} (${hex}) is already added, as a magnet link that was fetching its metadata: it has it now, from this .torrent`,
      );
    }
    mergeDuplicateTrackers(this.torrents, hex, meta.announceList, meta.private);
    this.torrents.refuseAdded(hex, meta.name);
    let entry: TorrentEntry;
    try {
      entry = new TorrentEntry(this.entryContext(), meta, record);
    } catch (error) {
      if (error instanceof StorageError) throw new DaemonError("bad-torrent", error.message);
      throw error;
    }
    this.store.addTorrent(record);
    this.torrents.addEntry(entry);
    entry.open();
    return entry.infoHash;
  }

  list(): TorrentSummary[] {
    const list = [...[...this.torrents.entries()].map(summaryOf), ...[...this.torrents.magnets()].map(magnetSummaryOf)];
    this.listCollection.listed(list.length);
    return list;
  }

  get(infoHash: string): TorrentDetail {
    const magnet = this.torrents.magnet(infoHash);
    return magnet ? magnetDetailOf(magnet) : detailOf(this.torrents.entry(infoHash));
  }

  async pause(infoHash: string): Promise<void> {
    await this.torrents.entry(infoHash).awake()?.pause();
  }

  async resume(infoHash: string): Promise<void> {
    const entry = this.torrents.entry(infoHash);
    const torrent = entry.awake();
    // A torrent that failed (disk trouble, no tracker) is tried again from its resume data.
    if (!torrent || torrent.state === "error") return entry.open();
    await torrent.resume();
  }

  async recheck(infoHash: string): Promise<void> {
    await this.torrents.entry(infoHash).awake()?.recheck();
  }

  async reannounce(infoHash: string): Promise<void> {
    this.torrents.entry(infoHash).awake()?.reannounce();
  }

  async remove(infoHash: string, deleteData: boolean): Promise<void> {
    const magnet = this.torrents.magnet(infoHash);
    if (magnet) {
      // Nothing on disk yet: the record and the link go.
      this.torrents.removeMagnet(magnet);
      await this.client.removeTorrent(magnet.link.infoHash);
      this.store.removeTorrent(magnet.link.infoHash);
      this.store.deleteBlob(magnetKey(magnet.infoHash));
      return;
    }
    const entry = this.torrents.entry(infoHash);
    const meta = deleteData ? entry.meta : null; // read while the state still has it (a dormant torrent's is there)
    this.torrents.removeEntry(entry);
    await this.client.removeTorrent(entry.record.infoHash);
    this.writer.forget(entry.record.infoHash);
    this.store.removeTorrent(entry.record.infoHash);
    if (meta) deleteTorrentFiles(meta, entry.record.savePath, this.log);
  }

  async patch(infoHash: string, patch: TorrentPatch): Promise<TorrentDetail> {
    const entry = this.torrents.entry(infoHash);
    const settings = mergeSettings(entry.meta, entry.options, patch);
    const torrent = entry.awake(); // a dormant one too: wanting a skipped file again may start a download
    entry.setOptions(settings); // kept first: a torrent in `error` takes them when it is resumed
    if (torrent) applySettings(torrent, settings, patch);
    return detailOf(entry);
  }

  async editTrackers(infoHash: string, edit: TrackerEdit): Promise<TorrentDetail> {
    editTrackers(this.torrents, infoHash, edit);
    return this.get(infoHash);
  }

  stats(): DaemonStats {
    return {
      ...torrentTotals(this.torrents.entries(), this.torrents.magnets()),
      port: this.port,
      startedAt: this.startedAt,
      limits: this.limits(),
      dht: this.dht?.status() ?? null,
    };
  }

  /** Limits across all torrents, for this run (the daemon's options set them at the next start). */
  setLimits(limits: Partial<GlobalLimits>): GlobalLimits {
    // 0 means no limit, as in a torrent's limits.
    const rate = (r: number | null | undefined) => (r === 0 ? null : r);
    try {
      return this.client.setGlobalLimits({ ...limits, uploadLimit: rate(limits.uploadLimit), downloadLimit: rate(limits.downloadLimit) });
    } catch (error) {
      if (error instanceof RangeError) throw new DaemonError("bad-request", error.message);
      throw error;
    }
  }

  settings(): DaemonSettings {
    return this.client.announceSettings;
  }

  setSettings(settings: Partial<DaemonSettings>): DaemonSettings {
    const now = this.client.setAnnounceSettings(settings);
    storeSettings(this.store, now);
    return now;
  }

  /** Whether the torrent is dormant: let go while it had nothing to do, its record kept (torrent-entry.ts). */
  dormant(infoHash: string): boolean {
    return this.torrents.dormant(infoHash);
  }

  subscribe(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private limits(): GlobalLimits {
    return this.client.globalLimits;
  }

  /** One context shared by every entry (an object and a closure each would add up over thousands). */
  private entryContext(): EntryContext {
    this.context ??= {
      client: this.client,
      store: this.store,
      writer: this.writer,
      poolBytes: this.options.torrentPoolBytes ?? DEFAULT_TORRENT_POOL_BYTES,
      maxPeers: this.options.maxPeersPerTorrent ?? DEFAULT_PEERS_PER_TORRENT,
      emit: (event, from) => this.emit(event, from),
      rested: () => this.collection.rested(),
      log: this.log,
    };
    return this.context;
  }
}
