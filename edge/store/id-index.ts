// The embedded store's lookup of 20-byte ids (info hashes, peer ids) by their bytes: an open-addressing
// table of small integer handles, each handle's key kept as 32-bit words in a typed array. An id is
// read straight from a UDP packet's bytes or from the 40 hex digits HTTP gives, so no key string is
// built for a lookup; Map lookups on fresh hex strings (hashing and comparing 40 characters, then a
// chain of objects) were most of the store's time per announce. A key is the id and a scope (a peer
// id is looked up within its swarm, the swarm's handle as scope). Linear probing with backward-shift
// deletion: no tombstones, so a table under constant churn never degrades.
import { idHex } from "../hex-ids.ts";

/** Words per key: the id's five, then the scope. */
const KEY_WORDS = 6;
const EMPTY = -1;

export class IdIndex {
  /** The key of the last load*(): what find() and insert() look for. */
  private readonly probe = new Int32Array(KEY_WORDS);
  /** Its hash, made once per load for both find() and insert(). */
  private probeHash = 0;
  /** Each handle's key: words[handle * KEY_WORDS ...]. */
  private words: Int32Array;
  /** Table slots holding handles (EMPTY when free); its length is a power of two. */
  private table: Int32Array;
  private mask: number;
  private count = 0;

  constructor(handles = 64) {
    this.words = new Int32Array(handles * KEY_WORDS);
    this.table = new Int32Array(128).fill(EMPTY);
    this.mask = 127;
  }

  get size(): number {
    return this.count;
  }

  /** Loads the 20 bytes at `at` of `bytes` and `scope` as the key to look for. */
  loadBytes(bytes: Uint8Array, at: number, scope: number): void {
    const p = this.probe;
    for (let i = 0; i < 5; i++, at += 4) p[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    p[5] = scope;
    this.probeHash = hashKey(p, 0);
  }

  /** Loads 40 hex digits (either case) and `scope` as the key; false (nothing loaded) when `hex` is not that. */
  loadHex(hex: string, scope: number): boolean {
    if (hex.length !== 40) return false;
    const p = this.probe;
    for (let i = 0, c = 0; i < 5; i++) {
      let w = 0;
      for (const end = c + 8; c < end; c++) {
        const d = HEX_VALUE[hex.charCodeAt(c) & 0x7f]!;
        if (d < 0 || hex.charCodeAt(c) > 0x7f) return false;
        w = (w << 4) | d;
      }
      p[i] = w;
    }
    p[5] = scope;
    this.probeHash = hashKey(p, 0);
    return true;
  }

  /** The handle whose key was loaded last, or -1. */
  find(): number {
    const p = this.probe;
    const table = this.table;
    const words = this.words;
    const mask = this.mask;
    for (let slot = this.probeHash & mask; ; slot = (slot + 1) & mask) {
      const h = table[slot]!;
      if (h === EMPTY) return -1;
      const k = h * KEY_WORDS;
      if (words[k] === p[0] && words[k + 1] === p[1] && words[k + 2] === p[2] && words[k + 3] === p[3] && words[k + 4] === p[4] && words[k + 5] === p[5]) {
        return h;
      }
    }
  }

  /** Files `handle` (not in the table) under the key loaded last (which find() did not find). */
  insert(handle: number): void {
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const need = (handle + 1) * KEY_WORDS;
    if (need > this.words.length) {
      const words = new Int32Array(Math.max(need, this.words.length * 2));
      words.set(this.words);
      this.words = words;
    }
    // Six words copied by a loop, and the slot found from the hash load*() made: a native `set`
    // call and a second hash cost more.
    const words = this.words;
    const p = this.probe;
    for (let i = 0, k = handle * KEY_WORDS; i < KEY_WORDS; i++) words[k + i] = p[i]!;
    this.placeAt(handle, this.probeHash);
    this.count++;
  }

  /** Takes `handle` (in the table) out. */
  remove(handle: number): void {
    const table = this.table;
    const mask = this.mask;
    let hole = hashKey(this.words, handle * KEY_WORDS) & mask;
    while (table[hole] !== handle) hole = (hole + 1) & mask;
    // Backward shift: entries after the hole that may not sit before their home slot move into it.
    for (let slot = (hole + 1) & mask; ; slot = (slot + 1) & mask) {
      const h = table[slot]!;
      if (h === EMPTY) break;
      const home = hashKey(this.words, h * KEY_WORDS) & mask;
      // Movable when home is not cyclically within (hole, slot].
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        table[hole] = h;
        hole = slot;
      }
    }
    table[hole] = EMPTY;
    this.count--;
  }

  /** The id of `handle` as 20 bytes into `out` at `at`. */
  writeId(handle: number, out: Uint8Array, at: number): void {
    const words = this.words;
    for (let i = 0, k = handle * KEY_WORDS; i < 5; i++, k++, at += 4) {
      const w = words[k]!;
      out[at] = w >>> 24;
      out[at + 1] = w >>> 16;
      out[at + 2] = w >>> 8;
      out[at + 3] = w;
    }
  }

  /** The id of `handle` as 40 lowercase hex digits. */
  hexOf(handle: number): string {
    this.writeId(handle, ID_BYTES, 0);
    return idHex(ID_BYTES);
  }

  private place(handle: number): void {
    this.placeAt(handle, hashKey(this.words, handle * KEY_WORDS));
  }

  private placeAt(handle: number, hash: number): void {
    const table = this.table;
    const mask = this.mask;
    let slot = hash & mask;
    while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
    table[slot] = handle;
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.place(old[i]!);
  }
}

/**
 * Mixes the six words at `k` (murmur3's multiply-and-rotate steps, then its finaliser): peer ids
 * are not random (a client's prefix, often a counter), so every word must move every bit.
 */
function hashKey(w: Int32Array, k: number): number {
  let h = 0x9747b28c;
  for (let i = 0; i < KEY_WORDS; i++) {
    let x = Math.imul(w[k + i]!, 0xcc9e2d51);
    x = (x << 15) | (x >>> 17);
    h ^= Math.imul(x, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;
  HEX_VALUE["0123456789ABCDEF".charCodeAt(i)] = i;
}
const ID_BYTES = new Uint8Array(20);
