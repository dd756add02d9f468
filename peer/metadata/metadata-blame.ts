// Who sent wrong metadata, so that an honest peer is never banned for another's bytes (as pieces/blame.ts
// does for pieces). A dictionary that came from one peer convicts it. One that came from several convicts
// nobody yet: the fetch goes on parole, one peer at a time sending every piece; a solo fetch that fails
// convicts its peer, and once one passes, the senders of the pieces of the first failed fetch that differ
// from the verified dictionary are the guilty ones.
import { bytesEqual } from "../../shared/bytes.ts";
import { METADATA_PIECE } from "../../shared/wire/ut-metadata.ts";

interface FailedFetch<P> {
  senders: (P | undefined)[];
  bytes: Uint8Array;
}

export class MetadataBlame<P> {
  /** The first fetch with several senders that failed: compared with the verified dictionary. */
  private suspect: FailedFetch<P> | null = null;
  /** On parole: the one peer every piece is asked of (null: the next peer asked becomes it). */
  private parole = false;
  private solo: P | null = null;

  /** An assembled dictionary failed its hash. */
  failed(senders: readonly (P | undefined)[], bytes: Uint8Array): { senders: P[]; guilty: P[]; parole: boolean } {
    const distinct = unique(senders);
    this.solo = null;
    if (distinct.length <= 1) return { senders: distinct, guilty: distinct, parole: this.parole };
    this.suspect ??= { senders: senders.slice(), bytes };
    this.parole = true;
    return { senders: distinct, guilty: [], parole: true };
  }

  /** May `peer` be asked for a piece? On parole only the solo peer may (the first asked becomes it). */
  mayAsk(peer: P, present: (p: P) => boolean): boolean {
    if (!this.parole) return true;
    if (this.solo === null || !present(this.solo)) this.solo = peer;
    return this.solo === peer;
  }

  /** `peer` left: true when it was the solo peer, whose pieces so far must then be dropped. */
  soloLeft(peer: P): boolean {
    if (this.solo !== peer) return false;
    this.solo = null;
    return true;
  }

  /** The dictionary passed: the senders of pieces of the failed fetch that differ from `bytes`. */
  verified(bytes: Uint8Array): P[] {
    const failed = this.suspect;
    if (!failed) return [];
    const guilty: (P | undefined)[] = [];
    failed.senders.forEach((sender, i) => {
      const at = i * METADATA_PIECE;
      const end = Math.min(bytes.length, at + METADATA_PIECE);
      if (!bytesEqual(bytes.subarray(at, end), failed.bytes.subarray(at, end))) guilty.push(sender);
    });
    return unique(guilty);
  }
}

function unique<P>(peers: readonly (P | undefined)[]): P[] {
  return [...new Set(peers.filter((p): p is P => p !== undefined))];
}
