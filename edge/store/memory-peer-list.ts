// One role's peers in a swarm of the embedded store (its seeders, or its leechers): their handles
// (peer-records.ts) in a typed array, and beside them each peer's compact form in one contiguous
// buffer, a fixed 18-byte slot per peer with its length (6 or 18) apart. A sample is positions in
// this list, and a compact reply is built by copying bytes out of the buffer, without reading any
// per-peer record. Removal swaps the last peer into the hole, in all the arrays, so they stay dense.
import type { SwarmPeer } from "./swarm-store.ts";

/** Bytes per slot: room for the larger compact form (IPv6: 16 address bytes and a port). */
export const SLOT_BYTES = 18;

// Never written: a list grows before its first peer goes in.
const NO_HANDLES = new Int32Array(0);
const NO_BYTES = new Uint8Array(0);

/** Where a list's peers are: PeerList writes each peer's position back on every move. */
export interface Positions {
  pos: Int32Array;
}

export class PeerList {
  length = 0;
  // Shared empty arrays until the first peer: a swarm often has no seeder or no leecher, and a
  // typed array costs about 100 bytes of heap before its first element.
  handles = NO_HANDLES;
  /** Slot i holds the compact form of the peer handles[i], its first lens[i] bytes meaningful. */
  bytes = NO_BYTES;
  lens = NO_BYTES;
  /**
   * The peers as objects for non-compact replies (memory-reply.ts), or null until one is needed;
   * beside the handles rather than by handle, so a sample reads them from one swarm's array. Made
   * only on demand: an object (and its hex id) kept for every peer, though nearly every client asks
   * for compact replies, grew the heap with each new peer and cost the collector (wrk, fresh peer
   * ids: about 0.15 page faults and 1 µs of CPU per announce).
   */
  readonly objects: Array<SwarmPeer | null> = [];

  /** Appends `handle` with the compact form of `address` (4 or 16 bytes) and `port` (its object not made yet). */
  add(records: Positions, handle: number, address: Uint8Array, port: number): void {
    const i = this.claim(records, handle, null);
    const bytes = this.bytes;
    const base = i * SLOT_BYTES;
    const n = address.length;
    for (let k = 0; k < n; k++) bytes[base + k] = address[k]!;
    bytes[base + n] = port >> 8;
    bytes[base + n + 1] = port & 0xff;
    this.lens[i] = n + 2;
  }

  /** Moves the peer at position `at` of `from` to the end of this list (a peer changing role). */
  takeFrom(records: Positions, from: PeerList, at: number): void {
    const handle = from.handles[at]!;
    const i = this.claim(records, handle, from.objects[at]!);
    const src = from.bytes;
    const dst = this.bytes;
    for (let k = 0, a = at * SLOT_BYTES, b = i * SLOT_BYTES; k < SLOT_BYTES; k++) dst[b + k] = src[a + k]!;
    this.lens[i] = from.lens[at]!;
    from.removeAt(records, at);
  }

  /** Takes the peer at position `at` out (the last one moves into its place). */
  removeAt(records: Positions, at: number): void {
    const last = --this.length;
    const objects = this.objects;
    if (at !== last) objects[at] = objects[last]!;
    objects.pop();
    if (at === last) return;
    const moved = this.handles[last]!;
    this.handles[at] = moved;
    records.pos[moved] = at;
    this.bytes.copyWithin(at * SLOT_BYTES, last * SLOT_BYTES, (last + 1) * SLOT_BYTES);
    this.lens[at] = this.lens[last]!;
  }

  /** Every peer gone (its swarm dropped whole). */
  clear(): void {
    this.length = 0;
    this.objects.length = 0;
  }

  private claim(records: Positions, handle: number, object: SwarmPeer | null): number {
    const i = this.length++;
    if (i === this.handles.length) this.grow();
    this.handles[i] = handle;
    this.objects.push(object);
    records.pos[handle] = i;
    return i;
  }

  private grow(): void {
    const size = Math.max(4, this.handles.length * 2);
    const handles = new Int32Array(size);
    handles.set(this.handles);
    const lens = new Uint8Array(size);
    lens.set(this.lens);
    const bytes = new Uint8Array(size * SLOT_BYTES);
    bytes.set(this.bytes);
    this.handles = handles;
    this.lens = lens;
    this.bytes = bytes;
  }
}
