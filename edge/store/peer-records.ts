// Every peer of the embedded store as one record in typed arrays, by handle (a small integer, reused
// once freed): no object per peer, so a re-announce writes a few array cells and the garbage
// collector has nothing to trace per peer. A peer's compact form lives in its role's list
// (memory-peer-list.ts); its id in the store's IdIndex, under the same handle.
import { keyHex } from "../hex-ids.ts";

/** No peer: the end of a chain. */
export const NONE = -1;

/**
 * A peer's `key` as announced: text over HTTP, the 32-bit number over UDP (its text, 8 upper-case
 * hex digits as libtorrent sends it over HTTP, is made only when compared with a text key).
 */
export type PeerKey = string | number | undefined;

export class PeerRecords {
  /** Unix ms after which the peer is gone. */
  expiresAt = new Float64Array(0);
  /** Neighbours in the swarm's order of last announce (NONE at either end). */
  older = new Int32Array(0);
  newer = new Int32Array(0);
  /** Position in its role's list. */
  pos = new Int32Array(0);
  /** 1: a seeder, 0: a leecher. */
  seeder = new Uint8Array(0);
  port = new Uint16Array(0);
  /** The address as announced (canonical text), for non-compact replies and the ownership check. */
  ips: string[] = [];
  /** Never sent to anyone: whoever shows it may move or remove the peer's entry. */
  keys: PeerKey[] = [];
  private free: number[] = [];
  private used = 0;

  /** A handle for a new peer: a freed one, else the next never used (the arrays grow by doubling). */
  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.pos.length) this.grow(Math.max(64, this.used * 2));
    this.ips.push("");
    this.keys.push(undefined);
    return this.used++;
  }

  release(handle: number): void {
    this.ips[handle] = "";
    this.keys[handle] = undefined;
    this.free.push(handle);
  }

  private grow(size: number): void {
    this.expiresAt = grown(new Float64Array(size), this.expiresAt);
    this.older = grown(new Int32Array(size), this.older);
    this.newer = grown(new Int32Array(size), this.newer);
    this.pos = grown(new Int32Array(size), this.pos);
    this.seeder = grown(new Uint8Array(size), this.seeder);
    this.port = grown(new Uint16Array(size), this.port);
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(bigger: T, old: T): T {
  bigger.set(old as never);
  return bigger;
}

/** Whether two keys are the same key: a UDP number equals the text libtorrent sends over HTTP (%08X). */
export function sameKey(a: PeerKey, b: PeerKey): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === typeof b) return a === b;
  return keyText(a) === keyText(b);
}

export function keyText(key: string | number): string {
  return typeof key === "string" ? key : keyHex(key);
}
