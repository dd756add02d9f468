// One role's peers in a swarm of the embedded store (its seeders, or its leechers): their handles
// (peer-records.ts) in a typed array, and beside them each peer's compact form: an IPv4 one in a
// dense array of 6-byte slots, an IPv6 one in an array of 18-byte slots made only once the list has
// an IPv6 peer, the length (6 or 18) apart. A sample is positions in this list, and a compact reply
// is built by copying bytes out of these arrays, without reading any per-peer record. The IPv4
// forms sit 6 bytes apart rather than in 18-byte slots so that a sample of 50 among a few hundred
// peers reads about half as many cache lines (the reply's largest share of the store's time in the
// server, where the store's data is seldom in cache). Removal swaps the last peer into the hole, in
// all the arrays, so they stay dense.
import type { SwarmPeer } from "./swarm-store.ts";

/** Bytes of an IPv4 compact form (address and port), and of an IPv6 one. */
export const V4_BYTES = 6;
export const V6_BYTES = 18;

// Never written: a list grows before its first peer goes in.
const NO_HANDLES = new Int32Array(0);
const NO_BYTES = new Uint8Array(0);
const NO_WORDS = new Uint16Array(0);

/** Where a list's peers are: PeerList writes each peer's position back on every move. */
export interface Positions {
  pos: Int32Array;
}

export class PeerList {
  length = 0;
  // Shared empty arrays until the first peer: a swarm often has no seeder or no leecher, and a
  // typed array costs about 100 bytes of heap before its first element.
  handles = NO_HANDLES;
  /** The compact form of peer handles[i] is lens[i] bytes (V4_BYTES or V6_BYTES) at i times that in v4 or v6. */
  v4 = NO_BYTES;
  /**
   * The same bytes as v4, as 16-bit words: a form is 3 of them (at i times 3), so a reply can move
   * it in 3 reads and writes instead of 6 (memory-reply.ts). The words hold the bytes as they are
   * (either byte order): only copied, never read as numbers.
   */
  v4Words = NO_WORDS;
  /** Empty while the list has held no IPv6 peer (most swarms never do): then every peer is in v4. */
  v6 = NO_BYTES;
  lens = NO_BYTES;
  /** How many of the peers are IPv6: while none are, a reply need not read `lens`. */
  sixes = 0;
  /**
   * The peers as objects for non-compact replies (memory-reply.ts), or null until one is needed;
   * beside the handles rather than by handle, so a sample reads them from one swarm's array. Made
   * only on demand: an object (and its hex id) kept for every peer, though nearly every client asks
   * for compact replies, grew the heap with each new peer and cost the collector (wrk, fresh peer
   * ids: about 0.15 page faults and 1 µs of CPU per announce). The array itself is made with the
   * first non-compact reply from the list (null until then), so a compact-only swarm keeps none in step.
   */
  objects: Array<SwarmPeer | null> | null = null;

  /** Appends `handle` with the compact form of `address` (4 or 16 bytes) and `port` (its object not made yet). */
  add(records: Positions, handle: number, address: Uint8Array, port: number): void {
    const i = this.claim(records, handle, null);
    const n = address.length;
    let bytes: Uint8Array = this.v4;
    let base = i * V4_BYTES;
    if (n !== 4) {
      bytes = this.sixBytes();
      base = i * V6_BYTES;
      this.sixes++;
    }
    for (let k = 0; k < n; k++) bytes[base + k] = address[k]!;
    bytes[base + n] = port >> 8;
    bytes[base + n + 1] = port & 0xff;
    this.lens[i] = n + 2;
  }

  /** The peers' objects, one slot per peer (null: not made yet), made with the first call. */
  objectSlots(): Array<SwarmPeer | null> {
    if (this.objects === null) this.objects = new Array<SwarmPeer | null>(this.length).fill(null);
    return this.objects;
  }

  /** Moves the peer at position `at` of `from` to the end of this list (a peer changing role). */
  takeFrom(records: Positions, from: PeerList, at: number): void {
    const handle = from.handles[at]!;
    const i = this.claim(records, handle, from.objects === null ? null : from.objects[at]!);
    const len = from.lens[at]!;
    if (len === V4_BYTES) copyForm(from.v4, at * V4_BYTES, this.v4, i * V4_BYTES, V4_BYTES);
    else {
      copyForm(from.v6, at * V6_BYTES, this.sixBytes(), i * V6_BYTES, V6_BYTES);
      this.sixes++;
    }
    this.lens[i] = len;
    from.removeAt(records, at);
  }

  /** Takes the peer at position `at` out (the last one moves into its place). */
  removeAt(records: Positions, at: number): void {
    const last = --this.length;
    const objects = this.objects;
    if (objects !== null) {
      if (at !== last) objects[at] = objects[last]!;
      objects.pop();
    }
    if (this.lens[at] === V6_BYTES) this.sixes--;
    if (at === last) return;
    const moved = this.handles[last]!;
    this.handles[at] = moved;
    records.pos[moved] = at;
    const len = this.lens[last]!;
    if (len === V4_BYTES) copyForm(this.v4, last * V4_BYTES, this.v4, at * V4_BYTES, V4_BYTES);
    else copyForm(this.v6, last * V6_BYTES, this.v6, at * V6_BYTES, V6_BYTES);
    this.lens[at] = len;
  }

  /** Every peer gone (its swarm dropped whole). */
  clear(): void {
    this.length = 0;
    this.sixes = 0;
    this.objects = null;
  }

  private claim(records: Positions, handle: number, object: SwarmPeer | null): number {
    const i = this.length++;
    if (i === this.handles.length) this.grow();
    this.handles[i] = handle;
    if (this.objects !== null) this.objects.push(object);
    records.pos[handle] = i;
    return i;
  }

  /** The IPv6 forms' array, made at the list's capacity with its first IPv6 peer. */
  private sixBytes(): Uint8Array {
    if (this.v6.length === 0) this.v6 = new Uint8Array(this.handles.length * V6_BYTES);
    return this.v6;
  }

  private grow(): void {
    const size = Math.max(4, this.handles.length * 2);
    const handles = new Int32Array(size);
    handles.set(this.handles);
    const lens = new Uint8Array(size);
    lens.set(this.lens);
    const v4 = new Uint8Array(size * V4_BYTES);
    v4.set(this.v4);
    if (this.v6.length > 0) {
      const v6 = new Uint8Array(size * V6_BYTES);
      v6.set(this.v6);
      this.v6 = v6;
    }
    this.handles = handles;
    this.lens = lens;
    this.v4 = v4;
    this.v4Words = new Uint16Array(v4.buffer);
  }
}

/** A compact form copied by a plain loop: a native call costs more than moving 6 or 18 bytes. */
function copyForm(from: Uint8Array, at: number, to: Uint8Array, toAt: number, n: number): void {
  for (let k = 0; k < n; k++) to[toAt + k] = from[at + k]!;
}
