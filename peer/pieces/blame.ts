// Who is to blame for a piece that failed its hash check, so that an honest peer is never punished for
// another peer's bytes. A piece that came from one peer convicts that peer. A piece that came from several
// convicts nobody yet: it goes on parole (its next fetch comes from one peer alone, see PiecePicker.parole)
// and the digest of each of its blocks is kept; once the piece passes, the senders of the blocks that
// differ from the verified data are the guilty ones. Strikes count per IP address, so a peer that comes
// back from a fresh port with a fresh peer id keeps its record.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { ipKey } from "../swarm/peer-directory.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";

/** Pieces with wrong data an address may have sent before it is banned for the torrent. */
export const STRIKES_TO_BAN = 2;

const DIGEST = 20;

/** A failed fetch with several senders: who sent each block, and each block's SHA-1. */
interface FailedFetch {
  senders: (SwarmPeer | undefined)[];
  digests: Uint8Array;
}

export class Blame {
  private readonly strikes = new Map<string, number>();
  private readonly suspects = new Map<number, FailedFetch>();

  /**
   * Piece `index` (its bytes: `data`) failed its hash; `senders[b]` sent block b. Returns the peers proven to
   * have sent wrong data now (a sole sender), or that the piece goes on parole (several senders).
   */
  pieceFailed(index: number, senders: readonly (SwarmPeer | undefined)[], data: Uint8Array): { guilty: SwarmPeer[]; parole: boolean } {
    const distinct = unique(senders);
    if (distinct.length <= 1) return { guilty: distinct, parole: false };
    // A later failure (its parole fetch, if that peer left half-way and others finished it) keeps the first
    // record: those blocks are what is compared with the verified piece.
    if (!this.suspects.has(index)) this.suspects.set(index, { senders: senders.slice(), digests: blockDigests(data) });
    return { guilty: [], parole: true };
  }

  /** Piece `index` passed: the senders of blocks of an earlier failed fetch that differ from `data`. */
  pieceVerified(index: number, data: Uint8Array): SwarmPeer[] {
    const failed = this.suspects.get(index);
    if (!failed) return [];
    this.suspects.delete(index);
    const good = blockDigests(data);
    const guilty: (SwarmPeer | undefined)[] = [];
    for (let b = 0; b * DIGEST < good.length; b++) {
      if (!sameDigest(good, failed.digests, b * DIGEST)) guilty.push(failed.senders[b]);
    }
    return unique(guilty);
  }

  /** One strike for each address among `peers` (once per address). Returns each with its address's total. */
  strike(peers: readonly SwarmPeer[]): { peer: SwarmPeer; strikes: number }[] {
    const out: { peer: SwarmPeer; strikes: number }[] = [];
    const seen = new Set<string>();
    for (const peer of peers) {
      const ip = ipKey(peer.conn.address.ip);
      if (seen.has(ip)) continue;
      seen.add(ip);
      const strikes = (this.strikes.get(ip) ?? 0) + 1;
      this.strikes.set(ip, strikes);
      out.push({ peer, strikes });
    }
    return out;
  }
}

function unique(peers: readonly (SwarmPeer | undefined)[]): SwarmPeer[] {
  return [...new Set(peers.filter((p): p is SwarmPeer => p !== undefined))];
}

/** SHA-1 of each block of a piece: only computed for pieces that failed, so rare. */
function blockDigests(data: Uint8Array): Uint8Array {
  const count = Math.ceil(data.length / BLOCK_SIZE);
  const out = new Uint8Array(count * DIGEST);
  const hasher = new Bun.CryptoHasher("sha1");
  for (let b = 0; b < count; b++) {
    hasher.update(data.subarray(b * BLOCK_SIZE, Math.min(data.length, (b + 1) * BLOCK_SIZE)));
    out.set(hasher.digest() as Uint8Array, b * DIGEST);
  }
  return out;
}

function sameDigest(a: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + DIGEST; i++) if (a[i] !== b[i]) return false;
  return true;
}
