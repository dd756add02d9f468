// One web seed (BEP 19 `url-list` entry) of a torrent: an extra source beside peers. It claims runs of
// pieces no peer is fetching (Downloader.claimRun), fetches them with HTTP range requests straight into
// their pool slots, and leaves verification to the downloader like any peer's data: nothing it sends is
// written before its piece's hash matched. Its state is explicit: ready, backing off after an error
// (exponential, capped), or dropped. At most MAX_JOBS requests run at a time, each at most MAX_RUN_BYTES
// (one piece when pieces are larger), starting at one piece and doubling after each success, so a slow
// or broken server holds few pieces away from peers; a request that stalls or outlives its deadline is
// aborted and its pieces go back to the picker.
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { Downloader, WholePieceSource } from "../pieces/downloader.ts";
import type { PieceAssembly } from "../pieces/piece-assembly.ts";
import type { PieceProgress } from "../pieces/picker.ts";
import { consequence, WebSeedError, type WebSeedErrorCode } from "./errors.ts";
import { fetchRange } from "./range-fetch.ts";
import { RunWriter } from "./run-writer.ts";
import { filesOfPiece, piecesOfFile, runSegments } from "./segments.ts";
import { fileUrl } from "./urls.ts";

export const MAX_JOBS = 2;
export const MAX_RUN_BYTES = 4 * 1024 * 1024;
export const BACKOFF_FIRST_MS = 2_000;
export const BACKOFF_CAP_MS = 120_000;
/** Pieces failing their hash before the seed is dropped (each one also takes its files off this seed). */
export const WEB_SEED_STRIKES = 3;
/** No byte for this long: the request is aborted. */
export const STALL_MS = 10_000;
/** A request's deadline: this much, plus its bytes at MIN_RATE (a server trickling bytes cannot hold pieces for long). */
const DEADLINE_BASE_MS = 10_000;
const MIN_RATE = 32 * 1024;

export type WebSeedState = { kind: "ready" } | { kind: "backing-off"; until: number } | { kind: "dropped"; reason: string };

export interface WebSeedEvent {
  url: string;
  code: WebSeedErrorCode | "bad-data";
  message: string;
  /** Seconds until the seed is asked again (back-off). */
  retryIn?: number;
  dropped?: boolean;
}

export interface WebSeedHooks {
  report(event: WebSeedEvent): void;
  /** One of its pieces failed the hash check. */
  pieceFailed(index: number, url: string): void;
  /** Asks every web seed to start what it can (after a back-off ends, a request ends, ...). */
  wake(): void;
}

let nextSourceId = -1;

/** The abort reason of a request ended because the torrent or the seed stops: no failure to report. */
const STOPPED = new WebSeedError("timeout", "stopped");

export class WebSeed implements WholePieceSource {
  /** Negative: never a connection's id. */
  readonly id = nextSourceId--;
  /** Pieces this seed may be asked for: all, less those of files it refused or served wrong. */
  readonly peerPieces: Bitfield;
  /** Unused (a web seed is never asked for single blocks); the picker's peers have it. */
  readonly outstanding = new Set<number>();
  state: WebSeedState = { kind: "ready" };
  private readonly jobs = new Set<AbortController>();
  private failures = 0;
  private strikes = 0;
  private runPieces = 1;
  private readonly maxRunPieces: number;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly url: string,
    private readonly meta: Metainfo,
    private readonly downloader: Downloader,
    private readonly hooks: WebSeedHooks,
  ) {
    this.peerPieces = new Bitfield(meta.pieceCount);
    for (let i = 0; i < meta.pieceCount; i++) this.peerPieces.set(i);
    this.maxRunPieces = Math.max(1, Math.floor(MAX_RUN_BYTES / meta.pieceLength));
  }

  get usable(): boolean {
    return this.state.kind !== "dropped";
  }

  /** Starts requests while it may and there are pieces for it. */
  fill(now: number): void {
    if (this.state.kind === "backing-off" && now >= this.state.until) this.state = { kind: "ready" };
    while (this.state.kind === "ready" && this.jobs.size < MAX_JOBS) {
      const run = this.downloader.claimRun(this, this.runPieces);
      if (run.length === 0) return;
      void this.fetchRun(run);
    }
  }

  /** Aborts every request (the torrent ends, or the seed is dropped); their pieces go back. */
  stop(): void {
    clearTimeout(this.backoffTimer);
    for (const job of this.jobs) job.abort(STOPPED);
  }

  pieceChecked(index: number, ok: boolean): void {
    if (ok) return;
    this.hooks.pieceFailed(index, this.url);
    // A piece fetched before its files were refused (the same bad file, still in flight) is no new strike.
    if (!this.peerPieces.has(index)) return;
    this.strikes++;
    // Its files are in doubt on this server: they come from elsewhere from now on.
    for (const file of filesOfPiece(this.meta, index)) this.refuseFile(file);
    const message = `piece ${index} failed its hash check (${this.strikes} of ${WEB_SEED_STRIKES})`;
    if (this.strikes >= WEB_SEED_STRIKES || this.peerPieces.count() === 0) this.drop("bad-data", message);
    else this.hooks.report({ url: this.url, code: "bad-data", message });
  }

  private async fetchRun(run: PieceProgress<PieceAssembly>[]): Promise<void> {
    const job = new AbortController();
    this.jobs.add(job);
    const writer = new RunWriter(run, this.meta.pieceLength, (progress, begin, length) => this.downloader.wholeBlockReceived(this, progress, begin, length));
    const limitMs = DEADLINE_BASE_MS + (writer.length / MIN_RATE) * 1000;
    const deadline = setTimeout(
      () => job.abort(new WebSeedError("timeout", `${this.url}: ${writer.length} bytes not fetched in ${limitMs / 1000} s`)),
      limitMs,
    );
    const stall = setTimeout(() => job.abort(new WebSeedError("timeout", `${this.url}: no data for ${STALL_MS / 1000} s`)), STALL_MS);
    let file = -1;
    try {
      for (const segment of runSegments(this.meta, run[0]!.index, run.length)) {
        file = segment.file;
        if (segment.padding) {
          if (!writer.writeZeros(segment.length)) break;
          continue;
        }
        const request = { url: fileUrl(this.url, this.meta, segment.file), start: segment.position, length: segment.length };
        let open = true;
        await fetchRange(request, job.signal, (bytes) => {
          stall.refresh();
          open = writer.write(bytes);
          return open;
        });
        if (!open) break;
      }
      if (writer.written === writer.length) this.succeeded();
    } catch (error) {
      if (!(error instanceof WebSeedError)) throw error;
      if (error !== STOPPED) this.failed(error, file);
    } finally {
      clearTimeout(deadline);
      clearTimeout(stall);
      this.jobs.delete(job);
      // Pieces not complete go back to the picker (complete ones are being checked).
      this.downloader.releaseWhole(this, run);
      this.hooks.wake();
    }
  }

  private succeeded(): void {
    this.failures = 0;
    this.runPieces = Math.min(this.maxRunPieces, this.runPieces * 2);
  }

  private failed(error: WebSeedError, file: number): void {
    if (this.state.kind === "dropped") return;
    this.runPieces = 1;
    switch (consequence(error.code)) {
      case "drop":
        return this.drop(error.code, error.message);
      case "refuse-file":
        this.refuseFile(file);
        if (this.peerPieces.count() === 0) return this.drop(error.code, `${error.message}; no file left to ask it for`);
        return this.hooks.report({ url: this.url, code: error.code, message: `${error.message}; its pieces come from elsewhere` });
      case "back-off": {
        if (this.state.kind === "backing-off") return; // the other request's failure already set it
        const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** this.failures++);
        this.state = { kind: "backing-off", until: Date.now() + delay };
        this.backoffTimer = setTimeout(() => this.hooks.wake(), delay);
        this.backoffTimer.unref?.();
        return this.hooks.report({ url: this.url, code: error.code, message: error.message, retryIn: delay / 1000 });
      }
    }
  }

  private refuseFile(file: number): void {
    const pieces = piecesOfFile(this.meta, file);
    if (!pieces) return;
    for (let i = pieces.first; i <= pieces.last; i++) this.peerPieces.clear(i);
  }

  private drop(code: WebSeedErrorCode | "bad-data", message: string): void {
    if (this.state.kind === "dropped") return;
    this.state = { kind: "dropped", reason: message };
    this.stop();
    this.hooks.report({ url: this.url, code, message: `${message}; not used any more`, dropped: true });
  }
}
