// What a torrent says about its progress: the totals every event carries, the bytes still left (for the
// tracker and the ETA), and the periodic progress event with transfer rates summed over the peers.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Downloader } from "../pieces/downloader.ts";
import type { TorrentEvent, Totals } from "./events.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { Uploader } from "../upload/uploader.ts";

export class ProgressReport {
  private readonly startedAt = Date.now();
  /** Pieces found verified on disk at start, before any fetching. */
  private resumedPieces: number;

  constructor(
    private readonly meta: Metainfo,
    private readonly have: Bitfield,
    private readonly downloader: Pick<Downloader, "downloaded" | "fetchedPieces" | "failedPieces">,
    private readonly uploader: Pick<Uploader, "uploaded">,
  ) {
    this.resumedPieces = have.count();
  }

  /** The check at start is over: what `have` holds now was on disk already. */
  startChecked(): void {
    this.resumedPieces = this.have.count();
  }

  totals(): Totals {
    return {
      have: this.have.count(),
      pieces: this.meta.pieceCount,
      downloaded: this.downloader.downloaded,
      uploaded: this.uploader.uploaded,
      fetchedPieces: this.downloader.fetchedPieces,
      resumedPieces: this.resumedPieces,
      failedPieces: this.downloader.failedPieces,
    };
  }

  /** Seconds since the torrent was made. */
  elapsedSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  bytesLeft(): number {
    const { meta, have } = this;
    let left = 0;
    for (let i = 0; i < meta.pieceCount; i++) if (!have.has(i)) left += i === meta.pieceCount - 1 ? meta.length - meta.pieceLength * i : meta.pieceLength;
    return left;
  }

  progress(peers: Map<number, SwarmPeer>): TorrentEvent {
    let down = 0;
    let up = 0;
    for (const peer of peers.values()) {
      down += peer.conn.down.rate();
      up += peer.conn.up.rate();
    }
    const totals = this.totals();
    const left = this.bytesLeft();
    return {
      event: "progress",
      percent: Math.floor((1000 * totals.have) / Math.max(1, totals.pieces)) / 10,
      downRate: Math.round(down),
      upRate: Math.round(up),
      peers: peers.size,
      eta: left === 0 ? 0 : down > 0 ? Math.round(left / down) : null,
      ...totals,
    };
  }
}
