// What the torrent keeps about one connected peer beyond the wire state: our outstanding requests to it,
// requests we gave up on (their blocks may still come), its requests to us, and how often it misbehaved.
import type { PeerConnection } from "../net/peer-connection.ts";
import type { PickerPeer } from "../pieces/picker.ts";

/**
 * The peer's queued requests to us, as (index, begin, length) triples in a ring that grows by doubling
 * up to `capacity`: a peer that pipelines little costs little, one that pipelines deep (rtorrent keeps
 * about 3,000 requests out at 300 MB/s, whatever our reqq says) is still served.
 */
export class RequestRing {
  private slots: Uint32Array;
  private head = 0;
  length = 0;

  constructor(
    readonly capacity: number,
    initial = 256,
  ) {
    this.slots = new Uint32Array(Math.min(capacity, initial) * 3);
  }

  push(index: number, begin: number, length: number): boolean {
    if (this.length * 3 === this.slots.length) {
      if (this.length === this.capacity) return false;
      this.grow();
    }
    const size = this.slots.length / 3;
    const at = ((this.head + this.length) % size) * 3;
    this.slots[at] = index;
    this.slots[at + 1] = begin;
    this.slots[at + 2] = length;
    this.length++;
    return true;
  }

  /** Doubles the ring (up to `capacity`), oldest request first. */
  private grow(): void {
    const size = this.slots.length / 3;
    const next = new Uint32Array(Math.min(this.capacity, size * 2) * 3);
    const first = this.slots.subarray(this.head * 3);
    next.set(first);
    next.set(this.slots.subarray(0, this.head * 3), first.length);
    this.slots = next;
    this.head = 0;
  }

  /** Reads the oldest request into `out` ([index, begin, length]) and removes it. */
  shift(out: Uint32Array): boolean {
    if (this.length === 0) return false;
    const at = this.head * 3;
    out[0] = this.slots[at]!;
    out[1] = this.slots[at + 1]!;
    out[2] = this.slots[at + 2]!;
    this.head = (this.head + 1) % (this.slots.length / 3);
    this.length--;
    return true;
  }

  /** Reads the oldest request into `out` ([index, begin, length]) and keeps it. */
  peek(out: Uint32Array): boolean {
    if (this.length === 0) return false;
    const at = this.head * 3;
    out[0] = this.slots[at]!;
    out[1] = this.slots[at + 1]!;
    out[2] = this.slots[at + 2]!;
    return true;
  }

  /** Drops a queued request (a `cancel`): rare, so a linear rebuild is fine. True when it was queued. */
  remove(index: number, begin: number, length: number): boolean {
    const kept: number[] = [];
    const item = new Uint32Array(3);
    let removed = false;
    while (this.shift(item)) {
      if (!removed && item[0] === index && item[1] === begin && item[2] === length) removed = true;
      else kept.push(item[0]!, item[1]!, item[2]!);
    }
    for (let i = 0; i < kept.length; i += 3) this.push(kept[i]!, kept[i + 1]!, kept[i + 2]!);
    return removed;
  }

  /** Drops the queued requests `drop` says so of, keeping the others in order; calls `dropped` for each. */
  filter(drop: (index: number) => boolean, dropped: (index: number, begin: number, length: number) => void): void {
    const kept: number[] = [];
    const item = new Uint32Array(3);
    while (this.shift(item)) {
      if (drop(item[0]!)) dropped(item[0]!, item[1]!, item[2]!);
      else kept.push(item[0]!, item[1]!, item[2]!);
    }
    for (let i = 0; i < kept.length; i += 3) this.push(kept[i]!, kept[i + 1]!, kept[i + 2]!);
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }
}

/** Requests given up on that are remembered per peer: enough for a few pipelines. */
const RELEASED_CAP = 1024;

/** Counts events in fixed windows of `windowMs` (cheap, and twice the limit at most across a boundary). */
export class WindowCounter {
  private windowStart = -Infinity;
  private count = 0;

  constructor(private readonly windowMs: number) {}

  /** Counts one event at `now`; returns how many fell in the current window. */
  note(now: number): number {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count;
  }
}

export class SwarmPeer implements PickerPeer {
  /** Block keys (see PiecePicker.blockKey) we asked this peer for and did not get yet. */
  readonly outstanding = new Set<number>();
  /**
   * Block keys we asked for and then gave up on (cancelled in end game, or dropped when it choked us): the
   * block may still be on its way, which is not the peer's fault. Oldest forgotten past RELEASED_CAP.
   */
  readonly released = new Set<number>();
  /** Blocks it sent that nobody asked it for (dropped). */
  unrequestedBlocks = 0;
  /** Chokes it sent us lately: a peer flapping choke/unchoke would make us re-send requests each time. */
  readonly chokes = new WindowCounter(60_000);
  readonly uploads: RequestRing;
  waitingForUploadBuffer = false;
  /** BEP 6: pieces the peer lets us fetch while it chokes us (its allowed fast messages, bounded). */
  readonly allowedFast = new Set<number>();
  /** BEP 6: the allowed fast set we granted it, once it showed interest: served even while we choke it. */
  granted: ReadonlySet<number> | null = null;
  /** The downloader's top-up of this peer's requests, made once (run at the end of each received chunk). */
  topUp: (() => void) | null = null;

  constructor(
    readonly conn: PeerConnection,
    requestQueueCapacity: number,
  ) {
    this.uploads = new RequestRing(requestQueueCapacity);
  }

  /** We no longer wait for `key` from this peer (it stays acceptable as a late arrival, see `released`). */
  release(key: number): void {
    if (!this.outstanding.delete(key)) return;
    this.released.add(key);
    if (this.released.size > RELEASED_CAP) this.released.delete(this.released.values().next().value!);
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
