// What the session keeps about one connected peer beyond the wire state: our outstanding requests to it,
// its requests to us, and strikes for bad data.
import type { PeerConnection } from "../net/peer-connection.ts";
import type { PickerPeer } from "../picker.ts";

/** The peer's queued requests to us, as (index, begin, length) triples in a fixed ring: no allocation per request. */
export class RequestRing {
  private readonly slots: Uint32Array;
  private head = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.slots = new Uint32Array(capacity * 3);
  }

  push(index: number, begin: number, length: number): boolean {
    if (this.length === this.capacity) return false;
    const at = ((this.head + this.length) % this.capacity) * 3;
    this.slots[at] = index;
    this.slots[at + 1] = begin;
    this.slots[at + 2] = length;
    this.length++;
    return true;
  }

  /** Reads the oldest request into `out` ([index, begin, length]) and removes it. */
  shift(out: Uint32Array): boolean {
    if (this.length === 0) return false;
    const at = this.head * 3;
    out[0] = this.slots[at]!;
    out[1] = this.slots[at + 1]!;
    out[2] = this.slots[at + 2]!;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return true;
  }

  /** Drops a queued request (a `cancel`): rare, so a linear rebuild is fine. */
  remove(index: number, begin: number, length: number): void {
    const kept: number[] = [];
    const item = new Uint32Array(3);
    let removed = false;
    while (this.shift(item)) {
      if (!removed && item[0] === index && item[1] === begin && item[2] === length) removed = true;
      else kept.push(item[0]!, item[1]!, item[2]!);
    }
    for (let i = 0; i < kept.length; i += 3) this.push(kept[i]!, kept[i + 1]!, kept[i + 2]!);
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }
}

export class SwarmPeer implements PickerPeer {
  /** Block keys (see PiecePicker.blockKey) we asked this peer for and did not get yet. */
  readonly outstanding = new Set<number>();
  readonly uploads: RequestRing;
  /** Failed pieces this peer sent blocks of. */
  strikes = 0;
  waitingForUploadBuffer = false;

  constructor(
    readonly conn: PeerConnection,
    requestQueueCapacity: number,
  ) {
    this.uploads = new RequestRing(requestQueueCapacity);
  }

  get id(): number {
    return this.conn.id;
  }

  get peerPieces() {
    return this.conn.peerPieces;
  }

  get label(): string {
    const { ip, port } = this.conn.address;
    return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

  // ChokerPeer
  get peerInterested(): boolean {
    return this.conn.peerInterested;
  }
  get amChoking(): boolean {
    return this.conn.amChoking;
  }
  downRate(): number {
    return this.conn.down.rate();
  }
  upRate(): number {
    return this.conn.up.rate();
  }
}
