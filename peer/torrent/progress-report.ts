// What a torrent says about its progress: the totals every event carries, the bytes still left (for the
// tracker and the ETA), and the periodic progress event with transfer rates summed over the peers.
import type { Bitfield } from "../../shared/bitfield.ts";
import { pieceSize, type Metainfo } from "../../shared/metainfo/types.ts";
import type { Downloader } from "../pieces/downloader.ts";
import type { PiecePicker } from "../pieces/picker.ts";
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
    private readonly uploader: Pick<Uploader, "uploaded" | "uploadedByFile">,
    /** Which pieces are wanted (files not skipped). */
    private readonly picker: Pick<PiecePicker<unknown>, "isWanted" | "wantedPieces" | "wantedHave">,
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
      wantedPieces: this.picker.wantedPieces,
      downloaded: this.downloader.downloaded,
      uploaded: this.uploader.uploaded,
      fetchedPieces: this.downloader.fetchedPieces,
      resumedPieces: this.resumedPieces,
      failedPieces: this.downloader.failedPieces,
      uploadedByFile: this.uploader.uploadedByFile,
    };
  }

  /** Seconds since the torrent was made. */
  elapsedSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Bytes of wanted pieces still missing (skipped files' own pieces are not left to download). */
  bytesLeft(): number {
    const { meta, have } = this;
    let left = 0;
    for (let i = 0; i < meta.pieceCount; i++) if (!have.has(i) && this.picker.isWanted(i)) left += pieceSize(meta, i);
    return left;
  }

  /** Bytes of the wanted pieces (files not skipped, and the pieces they share with skipped ones). */
  wantedBytes(): number {
    let bytes = 0;
    for (let i = 0; i < this.meta.pieceCount; i++) if (this.picker.isWanted(i)) bytes += pieceSize(this.meta, i);
    return bytes;
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
      percent: this.picker.wantedPieces === 0 ? 100 : Math.floor((1000 * this.picker.wantedHave) / this.picker.wantedPieces) / 10,
      downRate: Math.round(down),
      upRate: Math.round(up),
      peers: peers.size,
      eta: left === 0 ? 0 : down > 0 ? Math.round(left / down) : null,
      ...totals,
    };
  }
}
