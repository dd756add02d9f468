// What a torrent is made of when a client adds it.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { PeerAddress } from "../../shared/compact.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentHost } from "../client/client.ts";
import type { PieceWriter } from "../pieces/downloader.ts";
import type { TorrentEvent } from "./events.ts";
import type { BlockReader } from "../upload/uploader.ts";

export interface PieceStore extends PieceWriter, BlockReader {
  close(): void;
}

export interface TorrentOptions {
  host: TorrentHost;
  meta: Metainfo;
  storage: PieceStore;
  /** Pieces already verified on disk. */
  have: Bitfield;
  /** Pool bytes this torrent asks of the client's budget. */
  poolBytes: number;
  /** --max-peers: this torrent's peer slots. */
  maxPeers: number;
  /** Peers to dial besides what trackers tell us. */
  peers: PeerAddress[];
  /** Stay on as a seeder once complete. */
  seed: boolean;
  /** Upload limit for the whole torrent in bytes per second (undefined: none). */
  uploadLimit?: number;
  onEvent: (event: TorrentEvent) => void;
}
