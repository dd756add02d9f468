// Who holds one of the torrent's --max-peers slots, and who gives one up when they are all taken.
//
// Connections still handshaking hold no slot: they have their own, larger cap (the oldest is dropped for a
// newcomer, so a trickle of half-open sockets cannot lock real peers out) and a short deadline (liveness.ts).
// A peer that completes its handshake while every slot is held is let in *provisionally*, above the cap:
// whether it is worth a slot shows only in its first messages. Once it is useful (interested in us, or
// holding pieces we want) it takes the slot of the least useful settled member: one with nothing to trade
// either way, silent longest first (the idea behind libtorrent's connection replacement). A provisional peer
// that is still not useful, or finds no one to replace, when its grace period ends is let go.

export type SlotState = "member" | "provisional";

export interface SlotLimits {
  /** --max-peers: members at most. */
  capacity: number;
  /** Provisional peers held above the capacity at most. */
  provisional: number;
  /** Handshaking incoming connections at most (they hold no slot). */
  handshakes: number;
  /** How long a provisional peer has to prove useful and find a slot. */
  graceMs: number;
  /** A new member cannot be replaced before this: it has not had time to say what it wants. */
  settleMs: number;
}

export function slotLimits(capacity: number): SlotLimits {
  return {
    capacity,
    provisional: Math.max(2, Math.ceil(capacity / 10)),
    handshakes: Math.max(32, 2 * capacity),
    graceMs: 10_000,
    settleMs: 5_000,
  };
}

export type Admission =
  | { state: "member" }
  /** `displaced`: a provisional peer that had shown nothing, to be closed to make room. */
  | { state: "provisional"; displaced: number | null }
  /** The provisional places are taken by peers that already proved useful. */
  | { state: "refused" };

export type SlotChange =
  /** A useful provisional peer took the slot of `evicted` (to be closed). */
  | { kind: "replaced"; promoted: number; evicted: number }
  /** A provisional peer's grace ended without a slot (to be closed). */
  | { kind: "expired"; id: number };

interface Entry {
  state: SlotState;
  /** When it entered its current state. */
  since: number;
  /** The last message other than a keep-alive. */
  activeAt: number;
}

export class ConnectionSlots {
  private readonly entries = new Map<number, Entry>();
  private memberCount = 0;

  /** `useful(id)`: whether the peer has something to trade with us now (it is interested, or we are). */
  constructor(
    /** Replaced whole when --max-peers changes at run time. */
    public limits: SlotLimits,
    private readonly useful: (id: number) => boolean,
  ) {}

  get members(): number {
    return this.memberCount;
  }

  get provisionals(): number {
    return this.entries.size - this.memberCount;
  }

  stateOf(id: number): SlotState | undefined {
    return this.entries.get(id)?.state;
  }

  /** A peer completed its handshake. A displaced peer has already left the slots. */
  admit(id: number, now: number): Admission {
    if (this.memberCount < this.limits.capacity) {
      this.set(id, { state: "member", since: now, activeAt: now });
      return { state: "member" };
    }
    let displaced: number | null = null;
    if (this.provisionals >= this.limits.provisional) {
      // The oldest provisional peer that has shown nothing makes room; peers that did keep their place.
      displaced = this.oldest("provisional", (pid) => !this.useful(pid));
      if (displaced === null) return { state: "refused" };
      this.remove(displaced);
    }
    this.set(id, { state: "provisional", since: now, activeAt: now });
    return { state: "provisional", displaced };
  }

  /** The peer sent a message other than a keep-alive. */
  active(id: number, now: number): void {
    const entry = this.entries.get(id);
    if (entry) entry.activeAt = now;
  }

  /** The peer's connection ended. A freed member slot goes to a provisional peer (a useful one first): returned. */
  release(id: number, now: number): number[] {
    this.remove(id);
    return this.fillFreeSlots(now);
  }

  /** Useful provisional peers replace useless settled members; provisional peers past their grace expire. */
  review(now: number): SlotChange[] {
    this.fillFreeSlots(now);
    const changes: SlotChange[] = [];
    for (const [id, entry] of [...this.entries]) {
      if (entry.state !== "provisional") continue;
      const evicted = this.useful(id) ? this.leastUsefulMember(now) : null;
      if (evicted !== null) {
        this.remove(evicted);
        this.set(id, { state: "member", since: now, activeAt: entry.activeAt });
        changes.push({ kind: "replaced", promoted: id, evicted });
      } else if (now - entry.since >= this.limits.graceMs) {
        this.remove(id);
        changes.push({ kind: "expired", id });
      }
    }
    return changes;
  }

  /** A settled member with nothing to trade, silent longest (then oldest), or null. */
  private leastUsefulMember(now: number): number | null {
    let best: number | null = null;
    let bestEntry: Entry | null = null;
    for (const [id, entry] of this.entries) {
      if (entry.state !== "member" || now - entry.since < this.limits.settleMs || this.useful(id)) continue;
      if (!bestEntry || entry.activeAt < bestEntry.activeAt || (entry.activeAt === bestEntry.activeAt && entry.since < bestEntry.since)) {
        best = id;
        bestEntry = entry;
      }
    }
    return best;
  }

  private fillFreeSlots(now: number): number[] {
    const promoted: number[] = [];
    while (this.memberCount < this.limits.capacity && this.provisionals > 0) {
      const id = this.oldest("provisional", (pid) => this.useful(pid)) ?? this.oldest("provisional", () => true)!;
      const entry = this.entries.get(id)!;
      this.set(id, { state: "member", since: now, activeAt: entry.activeAt });
      promoted.push(id);
    }
    return promoted;
  }

  /** The peer in `state` that entered it first among those `matching`, or null. */
  private oldest(state: SlotState, matching: (id: number) => boolean): number | null {
    let best: number | null = null;
    let since = Infinity;
    for (const [id, entry] of this.entries) {
      if (entry.state === state && entry.since < since && matching(id)) {
        best = id;
        since = entry.since;
      }
    }
    return best;
  }

  private set(id: number, entry: Entry): void {
    this.remove(id);
    this.entries.set(id, entry);
    if (entry.state === "member") this.memberCount++;
  }

  private remove(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    if (entry.state === "member") this.memberCount--;
  }
}

/**
 * The handshaking incoming connection to drop so that a new one fits under `limit`: the oldest, since a
 * real peer handshakes within a round trip and only a stalled one waits long. Null while there is room.
 */
export function handshakeToDrop<C extends { outgoing: boolean; connectedAt: number }>(handshaking: Iterable<C>, limit: number): C | null {
  let count = 0;
  let oldest: C | null = null;
  for (const conn of handshaking) {
    if (conn.outgoing) continue; // our own dials are bounded by the dialer
    count++;
    if (!oldest || conn.connectedAt < oldest.connectedAt) oldest = conn;
  }
  return count >= limit ? oldest : null;
}
