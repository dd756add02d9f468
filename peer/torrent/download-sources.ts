// What a downloading torrent draws on besides its peers: its piece memory (piece-memory.ts) and its BEP 19
// web seeds. Made the first time the torrent downloads (a torrent started complete never makes it); the
// torrent takes them on entering `downloading` and lets them go when it completes, pauses or ends.
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { TorrentHost } from "../client/torrent-host.ts";
import type { Downloader } from "../pieces/downloader.ts";
import { isWebSeedUrl } from "../webseed/urls.ts";
import { WebSeeds } from "../webseed/web-seeds.ts";
import type { TorrentEvent } from "./events.ts";
import { PieceMemory } from "./piece-memory.ts";

/** The web seeds a download of `meta` uses (WebSeeds keeps the same ones). */
export function webSeedUrls(meta: Metainfo): string[] {
  return [...new Set(meta.urlList)].filter(isWebSeedUrl);
}

export class DownloadSources {
  private readonly memory: PieceMemory;
  /** A source beside peers while downloading (made again each time it starts downloading). */
  private webSeeds: WebSeeds | null = null;

  constructor(
    host: TorrentHost,
    private readonly meta: Metainfo,
    poolBytes: number,
    private readonly downloader: Downloader,
    private readonly emit: (event: TorrentEvent) => void,
  ) {
    this.memory = new PieceMemory(host.pool, host.hashing, meta, poolBytes, downloader);
  }

  /** Entering `downloading`: piece memory, and web seeds asked to start requests. */
  take(): void {
    this.memory.take();
    if (!this.webSeeds && this.meta.urlList.length > 0) this.webSeeds = new WebSeeds(this.meta, this.downloader, this.emit);
    this.webSeeds?.fill();
  }

  /** A slot may have come free (a piece done, a tick): web seeds start requests. */
  fill(): void {
    this.webSeeds?.fill();
  }

  /** True while some web seed may still serve us. */
  get webSeedUsable(): boolean {
    return this.webSeeds?.usable === true;
  }

  stopWebSeeds(): void {
    this.webSeeds?.stop();
    this.webSeeds = null;
  }

  /** Only once no piece is under way (PieceMemory.giveBack). */
  giveBackMemory(): void {
    this.memory.giveBack();
  }
}
