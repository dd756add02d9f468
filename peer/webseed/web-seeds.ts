// A torrent's web seeds: the `url-list` entries that are http(s) URLs, each a WebSeed. The torrent asks
// them to start requests when a slot may have come free (a piece done, each tick); they report errors as
// `webseed` events and failed pieces as `piece-failed` naming the URL.
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Downloader } from "../pieces/downloader.ts";
import type { TorrentEvent } from "../torrent/events.ts";
import { isWebSeedUrl } from "./urls.ts";
import { WebSeed, type WebSeedEvent, type WebSeedHooks } from "./web-seed.ts";

export class WebSeeds {
  private readonly seeds: WebSeed[];
  private stopped = false;
  private wakeQueued = false;

  constructor(meta: Metainfo, downloader: Downloader, emit: (event: TorrentEvent) => void) {
    const urls = [...new Set(meta.urlList)];
    for (const url of urls) if (!isWebSeedUrl(url)) emit({ event: "warning", message: `web seed ${url} is not an http(s) URL; ignored` });
    const hooks: WebSeedHooks = {
      report: (e: WebSeedEvent) => emit({ event: "webseed", ...e }),
      pieceFailed: (index, url) => emit({ event: "piece-failed", index, peers: [url], parole: false }),
      wake: () => this.wake(),
    };
    this.seeds = urls.filter(isWebSeedUrl).map((url) => new WebSeed(url, meta, downloader, hooks));
  }

  get urls(): string[] {
    return this.seeds.map((s) => s.url);
  }

  /** True while some web seed may still serve us. */
  get usable(): boolean {
    return this.seeds.some((s) => s.usable);
  }

  fill(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const seed of this.seeds) seed.fill(now);
  }

  stop(): void {
    this.stopped = true;
    for (const seed of this.seeds) seed.stop();
  }

  /** Once per turn, however many requests ended in it. */
  private wake(): void {
    if (this.wakeQueued || this.stopped) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.fill();
    });
  }
}
