// A torrent's storage as the daemon hands it to the Torrent: every piece write is told to the ResumeWriter,
// which is what makes resume data safe (resume-writer.ts): writeStarted before the bytes go out (the file's
// stamp is not taken meanwhile), markVerified once they are on disk (a piece is only ever written after its
// hash matched), writeAbandoned if the write failed. Marks are batched by the writer, never a commit each.
import type { InfoHash } from "../../shared/ids.ts";
import type { TorrentStorage } from "../storage/index.ts";
import type { PieceStore } from "../torrent/options.ts";
import type { ResumeWriter } from "./resume-writer.ts";

export class ResumingStorage implements PieceStore {
  constructor(
    private readonly inner: TorrentStorage,
    private readonly writer: ResumeWriter,
    private readonly infoHash: InfoHash,
    /** A mark that could not be saved (the state file's disk is full): logged, the download goes on. */
    private readonly saveFailed: (error: unknown) => void,
  ) {}

  writePieceAsync(index: number, data: Uint8Array): Promise<void> {
    this.writer.writeStarted(this.infoHash, index);
    return this.inner.writePieceAsync(index, data).then(
      () => this.settle(() => this.writer.markVerified(this.infoHash, index)),
      (error) => {
        this.settle(() => this.writer.writeAbandoned(this.infoHash, index));
        throw error;
      },
    );
  }

  readBlock(index: number, begin: number, length: number, into: Uint8Array, intoOffset: number): void {
    this.inner.readBlock(index, begin, length, into, intoOffset);
  }

  blockRegions(index: number, begin: number, length: number, visit: (file: number, fd: number, position: number, length: number) => void): boolean {
    return this.inner.blockRegions(index, begin, length, visit);
  }

  releaseFile(file: number): void {
    this.inner.releaseFile(file);
  }

  setSkipped(skipped: readonly boolean[], have: (index: number) => boolean): void {
    this.inner.setSkipped(skipped, have);
  }

  close(): void {
    this.inner.close();
  }

  private settle(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.saveFailed(error);
    }
  }
}
