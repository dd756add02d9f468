// What happens to a piece once its last block is in: its SHA-1 check (on a hashing thread when there is
// one, else the hash fed as blocks arrived), its one write, and only then `have`. A piece that fails its check
// is refetched, and blame goes to the peers whose data was wrong (blame.ts); repeat offenders are banned.
// Until the check and the write are over, the piece keeps its pool slot and stays "in progress" with every
// block received, so nobody asks for it again.
import { pieceHash, type Metainfo } from "../../shared/metainfo/types.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import type { PieceHasher } from "../verify/hash-pool.ts";
import { Blame, STRIKES_TO_BAN } from "./blame.ts";
import type { DownloaderHooks, PieceWriter, WholePieceSource } from "./downloader.ts";
import type { PieceAssembly } from "./piece-assembly.ts";
import type { PiecePicker, PieceProgress } from "./picker.ts";

/** What the finisher asks of the downloader it works for. */
export interface FinisherHost {
  readonly picker: PiecePicker<PieceAssembly>;
  /** The piece's slot goes back to the pool. */
  releaseSlot(assembly: PieceAssembly): void;
  /** A slot is free again: every peer's pipeline is topped up. */
  fillAll(): void;
  /** The whole-piece source that fetched `index`, if any; it no longer holds the piece. */
  takeWholeSource(index: number): WholePieceSource | undefined;
}

export class PieceFinisher {
  fetchedPieces = 0;
  failedPieces = 0;
  /** Finished pieces whose hash check or write is under way (their slots are still held). */
  readonly #writing = new Set<number>();
  /** Who waits for writesSettled (a pause and a stop may both). */
  readonly #writesDone: (() => void)[] = [];
  #blame: Blame | null = null;

  constructor(
    private readonly meta: Metainfo,
    private readonly storage: PieceWriter,
    private readonly hooks: DownloaderHooks,
    private readonly host: FinisherHost,
  ) {}

  /** Pieces whose check or write is under way. */
  get writing(): ReadonlySet<number> {
    return this.#writing;
  }

  private get blame(): Blame {
    return (this.#blame ??= new Blame());
  }

  /** Every block of `progress` is in: checks it (on `hasher`'s thread, or as hashed on arrival), then writes it. */
  finish(progress: PieceProgress<PieceAssembly>, hasher: PieceHasher | null): void {
    const assembly = progress.payload;
    const index = progress.index;
    assembly.retire(); // every block is in: nothing may write into the slot any more
    this.#writing.add(index);
    if (hasher) void hasher.check(index, assembly.data).then((ok) => this.checked(progress, ok));
    else this.checked(progress, assembly.verify(pieceHash(this.meta, index)));
  }

  private checked(progress: PieceProgress<PieceAssembly>, ok: boolean): void {
    const assembly = progress.payload;
    const index = progress.index;
    const picker = this.host.picker;
    const whole = this.host.takeWholeSource(index);
    whole?.pieceChecked(index, ok);
    if (!ok && whole) {
      // A whole-piece source sent every block: the source itself counts the failure (no peer to blame).
      this.settled(index, assembly);
      picker.pieceFailed(index);
      this.failedPieces++;
      this.host.fillAll();
      return;
    }
    if (ok && !picker.isWanted(index)) {
      // Skipped while it was checked: its file may not exist any more, and nobody wants it now.
      this.settled(index, assembly);
      picker.abandon(index);
      this.host.fillAll();
      return;
    }
    if (ok) {
      this.convict(this.blame.pieceVerified(index, assembly.data), "sent blocks that differ from the verified piece");
      // The write runs on the I/O pool while this thread keeps receiving.
      this.storage.writePieceAsync(index, assembly.data).then(
        () => this.written(progress),
        (error) => {
          // Not on disk: the piece goes back to the picker, so shutdown does not release its slot again.
          if (this.settled(index, assembly)) picker.abandon(index);
          this.hooks.writeFailed(error);
        },
      );
      return;
    }
    const senders = progress.senders as (SwarmPeer | undefined)[];
    const { guilty, parole } = this.blame.pieceFailed(index, senders, assembly.data);
    this.settled(index, assembly);
    picker.pieceFailed(index, parole);
    this.failedPieces++;
    this.hooks.pieceFailed(index, [...new Set(senders.filter((p) => p !== undefined))], parole);
    this.convict(guilty, "sent data failing the hash check");
    this.host.fillAll(); // a slot is free again
  }

  private convict(guilty: SwarmPeer[], what: string): void {
    for (const { peer, strikes } of this.blame.strike(guilty)) {
      if (strikes >= STRIKES_TO_BAN) this.hooks.ban(peer, `${what} (${strikes} pieces)`);
    }
  }

  private written(progress: PieceProgress<PieceAssembly>): void {
    const index = progress.index;
    if (!this.settled(index, progress.payload)) return; // abandoned at shutdown meanwhile
    this.host.picker.pieceVerified(index);
    this.fetchedPieces++;
    this.hooks.pieceDone(index);
    this.host.fillAll(); // a slot is free again
  }

  /** The check or write of `index` is over: its slot goes back to the pool. False when it was already let go. */
  private settled(index: number, assembly: PieceAssembly): boolean {
    if (!this.#writing.delete(index)) return false;
    this.host.releaseSlot(assembly);
    if (this.#writing.size === 0) for (const done of this.#writesDone.splice(0)) done();
    return true;
  }

  /** Resolves once no piece check or write is under way (before the files are closed, or the memory given back). */
  writesSettled(): Promise<void> {
    if (this.#writing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#writesDone.push(resolve));
  }
}
