// The daemon's torrents by info hash (lower-case hex): a TorrentEntry each, and a MagnetEntry for each
// magnet link whose metadata has not arrived yet, until its entry takes its place. One place for the
// lookups DaemonControl's calls share, so that an info hash in any case finds its torrent and a missing
// one, or one still fetching its metadata, is refused alike everywhere.
import { DaemonError } from "./control.ts";
import type { MagnetEntry } from "./magnet-entry.ts";
import type { TorrentEntry } from "./torrent-entry.ts";

export class DaemonTorrents {
  private readonly byHash = new Map<string, TorrentEntry>();
  /** Magnet links whose metadata has not arrived yet (each becomes an entry once it has). */
  private readonly magnetsByHash = new Map<string, MagnetEntry>();

  /** Whether the info hash (lower-case hex) is added, as a torrent or as a magnet link. */
  has(hex: string): boolean {
    return this.byHash.has(hex) || this.magnetsByHash.has(hex);
  }

  /**
   * DaemonError `duplicate` if the info hash (lower-case hex) is added, as a torrent or as a magnet link
   * still fetching its metadata: whichever way it came, a second add of it is refused alike.
   */
  refuseAdded(hex: string, name: string): void {
    if (this.has(hex)) throw new DaemonError("duplicate", `${name} (${hex}) is already added`);
  }

  /** The magnet link still fetching its metadata under an info hash, in any case. */
  magnet(infoHash: string): MagnetEntry | undefined {
    return this.magnetsByHash.get(infoHash.toLowerCase());
  }

  /** The torrent of an info hash in any case; DaemonError if none is added or it is still a magnet link. */
  entry(infoHash: string): TorrentEntry {
    if (this.magnetsByHash.has(infoHash.toLowerCase()))
      throw new DaemonError("bad-request", `${infoHash} is still fetching its metadata: it can only be looked at or removed`);
    const entry = this.byHash.get(infoHash.toLowerCase());
    if (!entry) throw new DaemonError("not-found", `no torrent has the info hash ${infoHash}`);
    return entry;
  }

  /** The torrent or magnet link of an info hash in any case; DaemonError if neither is added. */
  tracked(infoHash: string): TorrentEntry | MagnetEntry {
    return this.magnetsByHash.get(infoHash.toLowerCase()) ?? this.entry(infoHash);
  }

  /** Whether the torrent is dormant (torrent-entry.ts); false for one not added. */
  dormant(infoHash: string): boolean {
    return this.byHash.get(infoHash.toLowerCase())?.dormant === true;
  }

  addEntry(entry: TorrentEntry): void {
    this.byHash.set(entry.infoHash, entry);
  }

  addMagnet(magnet: MagnetEntry): void {
    this.magnetsByHash.set(magnet.infoHash, magnet);
  }

  /** The magnet link's metadata is in: its entry takes its place, unless the link was removed meanwhile. */
  became(magnet: MagnetEntry, entry: TorrentEntry): boolean {
    if (this.magnetsByHash.get(magnet.infoHash) !== magnet) return false;
    this.magnetsByHash.delete(magnet.infoHash);
    this.byHash.set(magnet.infoHash, entry);
    return true;
  }

  removeEntry(entry: TorrentEntry): void {
    this.byHash.delete(entry.infoHash);
  }

  removeMagnet(magnet: MagnetEntry): void {
    this.magnetsByHash.delete(magnet.infoHash);
  }

  entries(): IterableIterator<TorrentEntry> {
    return this.byHash.values();
  }

  magnets(): IterableIterator<MagnetEntry> {
    return this.magnetsByHash.values();
  }
}
