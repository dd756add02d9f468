// One role's peers in a swarm of the embedded store (its seeders, or its leechers): the entries in an
// array, and beside them each entry's compact form in one contiguous buffer, a fixed 18-byte slot per
// peer with its length (6 or 18) apart. A compact reply is then built by copying bytes out of that
// buffer, without reading a single entry object (each one a likely cache miss in a large swarm).
// Removal swaps the last peer into the hole, in the array and the buffer alike, so both stay dense.
import type { PeerEntry } from "./memory-swarm.ts";

/** Bytes per slot: room for the larger compact form (IPv6: 16 address bytes and a port). */
export const SLOT_BYTES = 18;

export class PeerList {
  readonly entries: PeerEntry[] = [];
  /** Slot i holds entries[i].compact, its first lens[i] bytes meaningful. */
  bytes = new Uint8Array(4 * SLOT_BYTES);
  lens = new Uint8Array(4);

  get length(): number {
    return this.entries.length;
  }

  add(entry: PeerEntry): void {
    const i = this.entries.length;
    if (i === this.lens.length) this.grow();
    entry.slot = i;
    this.entries.push(entry);
    this.writeSlot(i, entry.compact);
  }

  remove(entry: PeerEntry): void {
    const last = this.entries.pop()!;
    if (last === entry) return;
    const at = entry.slot;
    this.entries[at] = last;
    last.slot = at;
    this.bytes.copyWithin(at * SLOT_BYTES, this.entries.length * SLOT_BYTES, (this.entries.length + 1) * SLOT_BYTES);
    this.lens[at] = this.lens[this.entries.length]!;
  }

  private writeSlot(i: number, compact: Uint8Array): void {
    const base = i * SLOT_BYTES;
    const bytes = this.bytes;
    for (let k = 0; k < compact.length; k++) bytes[base + k] = compact[k]!;
    this.lens[i] = compact.length;
  }

  private grow(): void {
    const lens = new Uint8Array(this.lens.length * 2);
    lens.set(this.lens);
    const bytes = new Uint8Array(lens.length * SLOT_BYTES);
    bytes.set(this.bytes);
    this.lens = lens;
    this.bytes = bytes;
  }
}
