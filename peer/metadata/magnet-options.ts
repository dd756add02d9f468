// What a magnet link's torrent (magnet-torrent.ts) is given, asks of its client, how it ends, and what it
// reports while the torrent's size is not known.
import type { PeerAddress } from "../../shared/compact.ts";
import type { MagnetLink } from "../../shared/magnet.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import type { TorrentEvent, Totals } from "../torrent/events.ts";
import type { PeerErrorCode } from "../torrent/exit-codes.ts";
import type { TorrentSettings } from "../torrent/options.ts";
import type { Torrent } from "../torrent/torrent.ts";

/** What a magnet link's torrent asks of its client: what a torrent does, and the Torrent its metadata describes. */
export interface MagnetHost extends TorrentHost {
  /** The metadata is in: the Torrent it describes takes the magnet's place (and its peers); `magnet` is the MagnetTorrent. */
  promote(magnet: { readonly infoHash: Uint8Array }, settings: TorrentSettings): Torrent;
}

export interface MagnetOptions {
  host: MagnetHost;
  link: MagnetLink;
  /** Peers to dial besides the tracker's: the link's x.pe and --peer. */
  peers: PeerAddress[];
  maxPeers: number;
  onEvent: (event: TorrentEvent) => void;
  /**
   * The verified metadata is in: open storage and check what is on disk for the torrent it describes
   * (`torrentFile`: the .torrent, for those who keep it). A failure is reported with its code.
   */
  prepare(meta: Metainfo, torrentFile: Uint8Array): Promise<Omit<TorrentSettings, "handover"> | { code: PeerErrorCode; message: string }>;
}

/** A magnet link as the client's caller describes it: the client adds itself as the host. */
export type MagnetSettings = Omit<MagnetOptions, "host">;

/** How the metadata phase ended: a Torrent carries on, or it stopped or failed with an exit code. */
export type MagnetOutcome = { torrent: Torrent } | { code: number };

/**
 * `metadata`: fetching; `preparing`: verified, storage being opened (peers kept, nothing fetched);
 * `promoted`: a Torrent took over; `stopped`, `error`: ended here.
 */
export type MagnetState = "metadata" | "preparing" | "promoted" | "stopped" | "error";

/** A torrent's totals before it has a piece count: nothing moved yet (metadata is not payload). */
export const NOTHING_YET: Totals = {
  have: 0,
  pieces: 0,
  wantedPieces: 0,
  downloaded: 0,
  uploaded: 0,
  fetchedPieces: 0,
  resumedPieces: 0,
  failedPieces: 0,
  uploadedByFile: 0,
};

/** Tracker `left` while the size is unknown: what libtorrent sends, so trackers count us as a leecher. */
export const UNKNOWN_LEFT = 16 * 1024;
