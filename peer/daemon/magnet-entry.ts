// A magnet link added to the daemon, until its metadata is in: its stored record (state `metadata`, no
// .torrent yet; the link itself kept as a blob so that a restart fetches the metadata again), the client's
// MagnetTorrent, and what the views show meanwhile. Once the metadata is verified, the .torrent made from it
// goes into the record (a restart does not fetch it again) and a TorrentEntry takes over with the Torrent
// the client made of the magnet, on the same peers. A .torrent added for the same info hash hands its
// metadata over (`handOver`) instead of waiting for peers to send it (a private one, none of the fetch's
// peers: BEP 27, they came from the link).
import { toHex } from "../../shared/bytes.ts";
import { formatMagnet, MagnetError, parseMagnet, type MagnetLink } from "../../shared/magnet.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentSettings } from "../client/client.ts";
import type { MagnetTorrent } from "../metadata/magnet-torrent.ts";
import { type SuppliedMetadata, type SupplyRefusal, suppliedRefusal, suppliedTiers } from "../metadata/supplied-metadata.ts";
import { torrentFileFromInfo } from "../../shared/metainfo/from-info.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { StorageError } from "../storage/index.ts";
import type { PeerErrorCode } from "../torrent/exit-codes.ts";
import { type AddTorrentRequest, DaemonError } from "./control.ts";
import type { StateStore, TorrentRecord } from "./state-store.ts";
import { type EntryContext, TorrentEntry } from "./torrent-entry.ts";
import { eachItsTier } from "./daemon-trackers.ts";

/** The state store's key of a magnet link whose metadata has not arrived yet. */
export const magnetKey = (infoHash: string): string => `magnet:${infoHash}`;

/**
 * The record of a magnet link being added (no .torrent yet, state `metadata`). Throws DaemonError: a link
 * that does not parse, or settings, which need the files and sizes only the metadata gives.
 */
export function magnetRecord(request: AddTorrentRequest, uri: string, savePath: string): { link: MagnetLink; record: TorrentRecord } {
  let link: MagnetLink;
  try {
    link = parseMagnet(uri);
  } catch (error) {
    if (error instanceof MagnetError) throw new DaemonError("bad-torrent", error.message);
    throw error;
  }
  const { filePriorities, sequential, limits, goals, paused } = request;
  // Only what asks for something: qBittorrent's add passes its empty limits and goals with every link.
  const asks = (v: unknown) => v !== undefined && v !== false && !(typeof v === "object" && v !== null && Object.keys(v).length === 0);
  const asked = Object.entries({ filePriorities, sequential, limits, goals, paused }).filter(([, v]) => asks(v));
  if (asked.length > 0) {
    throw new DaemonError("bad-request", `${asked.map(([k]) => k).join(", ")} cannot be given with a magnet link: set them once its metadata is in`);
  }
  const record: TorrentRecord = { infoHash: link.infoHash, metainfo: new Uint8Array(0), savePath, options: {}, state: "metadata", addedAt: Date.now() };
  return { link, record };
}

/** The link of a stored magnet-only record, or why it cannot be read. */
export function storedMagnet(store: StateStore, record: TorrentRecord): MagnetLink | string {
  const uri = store.getBlob(magnetKey(toHex(record.infoHash)));
  if (!uri) return `the magnet link of ${toHex(record.infoHash)} is not in the state`;
  try {
    return parseMagnet(new TextDecoder().decode(uri));
  } catch (error) {
    if (error instanceof MagnetError) return `a stored magnet link does not parse (${error.message})`;
    throw error;
  }
}

/** Stores a magnet-only record (an empty .torrent, state `metadata`) and its link. */
export function storeMagnet(store: StateStore, record: TorrentRecord, uri: string, infoHash: string): void {
  store.addTorrent(record);
  store.setBlob(magnetKey(infoHash), new TextEncoder().encode(uri));
}

export class MagnetEntry {
  error: string | null = null;
  magnet: MagnetTorrent | null = null;
  /**
   * The entry its metadata made, once `prepare` made it (it takes over when the client's torrent does). From
   * then on the tracker list is that entry's (its stored .torrent, its torrent's): this one only passes
   * changes on, so that one made before the swap is neither lost nor written back as a link.
   */
  private next: TorrentEntry | null = null;

  constructor(
    private readonly ctx: EntryContext,
    readonly infoHash: string,
    /** The link as added, with its trackers as setTrackers left them. */
    public link: MagnetLink,
    readonly record: TorrentRecord,
    /** The metadata is in and stored: `entry` replaces this one (false if this was removed meanwhile). */
    private readonly became: (entry: TorrentEntry) => boolean,
  ) {}

  open(): void {
    const { ctx, link } = this;
    const magnet = ctx.client.addMagnet({
      link,
      peers: link.peers.map(parsePeer).filter((p) => p !== null),
      maxPeers: ctx.maxPeers,
      onEvent: (event) => {
        if (event.event === "error") this.error = event.message;
        ctx.emit(event, this);
      },
      prepare: (meta, torrentFile) => Promise.resolve(this.prepare(meta, torrentFile)),
    });
    this.magnet = magnet;
    void magnet.finished.then((outcome) => {
      if (!("torrent" in outcome) || !this.next) return;
      this.next.attach(outcome.torrent);
      this.became(this.next);
    });
    magnet.start();
  }

  /** Its tracker tiers: the link's trackers, each a tier of its own (as the fetch announces to them); then its entry's. */
  get tiers(): string[][] {
    return this.next?.tiers ?? eachItsTier(this.link.trackers);
  }

  /**
   * Its trackers changed: the stored link is written with them (a restart fetches with them), the fetch
   * announces to them from now on, and the torrent its metadata makes goes on with them (the fetch reads them
   * when it makes the .torrent); once its entry is made, that entry takes the change.
   */
  setTrackers(tiers: string[][]): void {
    if (this.next) return this.next.setTrackers(tiers);
    this.link = { ...this.link, trackers: tiers.flat() };
    this.ctx.store.setBlob(magnetKey(this.infoHash), new TextEncoder().encode(formatMagnet(this.link)));
    this.magnet?.setTrackers(this.tiers);
  }

  /** What its fetch's announces did last (empty before its start). */
  trackerStatus(): ReturnType<MagnetTorrent["trackerStatus"]> {
    return this.magnet?.trackerStatus() ?? [];
  }

  /**
   * A .torrent of this info hash was added: its metadata goes to the fetch (supplied-metadata.ts), which
   * stops and goes on as with fetched metadata; a fetch that failed (no way to find a peer) is replaced by
   * the torrent. Resolves true once the torrent made of it has taken over, false when the metadata came
   * meanwhile or the torrent's start failed (then `error` says why).
   */
  async handOver(meta: Metainfo): Promise<boolean> {
    const magnet = this.magnet;
    if (!magnet) return false;
    const supplied = { infoBytes: meta.infoBytes, announceList: meta.announceList, urlList: meta.urlList, private: meta.private };
    if (magnet.state === "error") {
      await magnet.finished; // the client lets a failed fetch go only then
      return this.replace(supplied);
    }
    const refused = magnet.supplyMetadata(supplied);
    if (refused?.code === "info-mismatch") throw mismatch(meta.name, refused);
    if (refused) return false;
    // open()'s handler, registered first, has made the entry take over by the time this resumes.
    return "torrent" in (await magnet.finished);
  }

  /** The fetch ended in error (and the client let it go): a torrent of the supplied metadata takes its place. */
  private replace(supplied: SuppliedMetadata): boolean {
    const refused = suppliedRefusal(supplied, this.link.infoHash);
    if (refused) throw mismatch(this.infoHash, refused);
    const tiers = suppliedTiers(supplied, this.tiers);
    const torrentFile = torrentFileFromInfo(supplied.infoBytes, tiers, supplied.urlList);
    const entry = this.adopt(parseMetainfo(torrentFile), torrentFile);
    if ("code" in entry) {
      this.error = entry.message;
      return false;
    }
    if (!this.became(entry)) return false; // removed meanwhile
    entry.open();
    return true;
  }

  /** The verified metadata: stored with the record, then the torrent's settings (resume plan and all) as for any entry. */
  private prepare(meta: Metainfo, torrentFile: Uint8Array): Omit<TorrentSettings, "handover"> | { code: PeerErrorCode; message: string } {
    const entry = this.adopt(meta, torrentFile);
    if ("code" in entry) return entry;
    const settings = entry.settings();
    if (!settings) return { code: "unwritable", message: entry.error ?? "the storage cannot be opened" };
    this.next = entry;
    return settings;
  }

  /** The entry of the metadata, stored with the record in place of the link. */
  private adopt(meta: Metainfo, torrentFile: Uint8Array): TorrentEntry | { code: PeerErrorCode; message: string } {
    const record: TorrentRecord = { ...this.record, metainfo: torrentFile, state: "downloading" };
    let entry: TorrentEntry;
    try {
      entry = new TorrentEntry(this.ctx, meta, record);
    } catch (error) {
      if (error instanceof StorageError) return { code: error.code, message: error.message };
      throw error;
    }
    this.ctx.store.setMetainfo(meta.infoHash, torrentFile);
    this.ctx.store.setTorrentState(meta.infoHash, "downloading");
    this.ctx.store.deleteBlob(magnetKey(this.infoHash));
    return entry;
  }
}

const mismatch = (name: string, refused: SupplyRefusal) => new DaemonError("bad-torrent", `${name} is not this magnet link's torrent: ${refused.message}`);

/** An x.pe "host:port" or "[v6]:port" (the magnet parser checked the form). */
function parsePeer(text: string): { ip: string; port: number } | null {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return match ? { ip: match[1]!, port: Number(match[2]) } : null;
}
