// Our block requests to peers: each peer's pipeline topped up from the picker (as deep as its rate asks,
// within the download limit, request-budget.ts), and requests taken back: those of a piece given up
// (cancelled), those of a peer that choked us or left (back to the picker), and in end game the copies
// asked of other peers once one sent the block. Answers nobody asked for are counted against the peer.
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { OUR_MAX_REQUEST } from "../net/extension-handshake.ts";
import type { ByteBudget } from "../net/rate-budget.ts";
import type { SwarmPeer } from "../swarm/swarm-peer.ts";
import { allowedFastView } from "./allowed-fast-view.ts";
import type { PieceAssembly } from "./piece-assembly.ts";
import type { PieceSlots } from "./piece-slots.ts";
import type { PiecePicker } from "./picker.ts";
import { pipelineDepth } from "./pipeline.ts";
import { RequestBudget } from "./request-budget.ts";

/** Blocks nobody asked for (beyond late ones, see SwarmPeer.released) a peer may send before it is dropped. */
export const MAX_UNREQUESTED_BLOCKS = 16;

/** Blocks one request to the peer may ask for: as many as both sides serve (OUR_MAX_REQUEST), 1 for a peer that did not say. */
export function blocksPerRequest(peerMaxRequest: number | undefined): number {
  return Math.max(1, Math.floor(Math.min(peerMaxRequest ?? BLOCK_SIZE, OUR_MAX_REQUEST) / BLOCK_SIZE));
}

export class Requests {
  /** Blocks (and rejects) dropped because the peer that sent them had not been asked for them. */
  unrequestedBlocks = 0;
  /** The download limit (the torrent's and the client's), if any. */
  private budget: RequestBudget | null = null;
  /** The picker's answer, reused (made at the first pick: a torrent that only seeds never picks). */
  private picked: number[] | null = null;

  constructor(private readonly picker: PiecePicker<PieceAssembly>) {}

  /** Requests from now on are paid from `limit` (null: no limit); `refill` tops the pipelines up once it allows more. */
  setLimit(limit: ByteBudget | null, refill: () => void): void {
    this.budget?.stop();
    this.budget = limit ? new RequestBudget(limit, refill) : null;
  }

  /** Stops the budget's timer (at shutdown). */
  stop(): void {
    this.budget?.stop();
  }

  /** Tops up the pipeline of `peer` (open, and interested in it); new pieces start in `slots` if they may. */
  fill(peer: SwarmPeer, slots: PieceSlots, writing: number): void {
    const conn = peer.conn;
    // Choked: only the pieces it allows us fast (BEP 6), if any.
    const asked = conn.peerChoking ? allowedFastView(peer) : peer;
    if (!asked) return;
    let room = pipelineDepth(conn.down.rate(), conn.peerExtensions?.reqq ?? null) - peer.outstanding.size;
    if (room <= 0) return;
    // In end game a block may be asked of several peers and cancelled at the others once one sends it:
    // requests stay one block each there, so a cancel always names a request exactly.
    const most = this.picker.inEndGame ? 1 : blocksPerRequest(conn.peerExtensions?.maxRequest);
    // A long request's blocks arrive one by one: wait for room for a whole one while one is still out.
    if (room < most && peer.outstanding.size >= most) return;
    const budget = this.budget;
    if (budget) {
      room = budget.affordable(room);
      if (room <= 0) return;
    }
    const picked = (this.picked ??= []);
    picked.length = 0;
    this.picker.pick(asked, room, slots.mayStart(writing) ? slots.starter : null, picked);
    if (picked.length > 0 && peer.outstanding.size === 0) conn.lastBlockAt = Date.now(); // stall clock starts now
    for (let i = 0; i < picked.length; ) {
      const first = picked[i]!;
      const { index, block } = this.picker.splitKey(first);
      const progress = this.picker.inProgress.get(index)!;
      // The picker hands out a piece's free blocks in order: a run of them goes as one request.
      let blocks = 1;
      while (blocks < most && i + blocks < picked.length && picked[i + blocks] === first + blocks && block + blocks < progress.blockCount) blocks++;
      let length = 0;
      for (let b = 0; b < blocks; b++) {
        peer.outstanding.add(first + b);
        length += progress.blockLength(block + b);
      }
      budget?.spend(length);
      conn.request(index, block * BLOCK_SIZE, length);
      i += blocks;
    }
    conn.flushRequests();
  }

  /** Cancels our requests to `peer` for blocks of a piece given up: their bytes, should they come, are dropped. */
  cancelPiece(peer: SwarmPeer, index: number): void {
    for (const key of [...peer.outstanding]) {
      const at = this.picker.splitKey(key);
      if (at.index !== index) continue;
      peer.release(key);
      if (peer.conn.state !== "open") continue;
      const length = Math.min(BLOCK_SIZE, this.picker.pieceLength(index) - at.block * BLOCK_SIZE);
      peer.conn.send({ type: "cancel", index, begin: at.block * BLOCK_SIZE, length });
    }
  }

  /** A block came from `from`: the same request to any other peer (end game, or a duplicated one) is cancelled. */
  cancelElsewhere(peers: Iterable<SwarmPeer>, from: SwarmPeer, key: number, index: number, begin: number, length: number): void {
    for (const other of peers) {
      if (other === from || !other.outstanding.has(key)) continue;
      other.release(key);
      other.conn.send({ type: "cancel", index, begin, length });
    }
  }

  /** Gives the peer's outstanding requests back to the picker, but those for pieces in `keep`. */
  drop(peer: SwarmPeer, keep: ReadonlySet<number>): void {
    for (const key of peer.outstanding) {
      if (keep.size > 0 && keep.has(this.picker.splitKey(key).index)) continue;
      this.picker.requestLost(key);
      peer.release(key);
    }
  }

  /** A block (or reject) this peer was not asked for: a late one we gave up on is fine, many others are not. */
  unrequested(peer: SwarmPeer, key: number): void {
    if (key >= 0 && peer.released.delete(key)) return;
    this.unrequestedBlocks++;
    if (++peer.unrequestedBlocks > MAX_UNREQUESTED_BLOCKS)
      peer.conn.close({ code: "protocol", detail: `sent ${peer.unrequestedBlocks} blocks or rejects nobody asked for` });
  }
}
