// Who we upload to. Leeching: tit-for-tat, the regular slots go to the interested peers that give us the
// most (re-evaluated every ~10 s), plus one optimistic slot that rotates every ~30 s so newcomers and
// other leechers get a chance to prove themselves. Seeding: nobody can give us anything, so the slots go
// by upload rate with fair rotation: a peer that held a slot for a full rotation yields it to one that
// has waited longest.

export interface ChokerPeer {
  readonly id: number;
  readonly peerInterested: boolean;
  readonly amChoking: boolean;
  /** Bytes/s we receive from the peer. */
  downRate(): number;
  /** Bytes/s we send to the peer. */
  upRate(): number;
}

export const REGULAR_SLOTS = 4;
export const RECHOKE_INTERVAL_MS = 10_000;
export const OPTIMISTIC_INTERVAL_MS = 30_000;

export class Choker {
  private optimisticId: number | null = null;
  private optimisticSince = 0;
  /** When each peer last got (or lost) a slot: for fair rotation while seeding. */
  private readonly unchokedSince = new Map<number, number>();
  private readonly chokedSince = new Map<number, number>();

  constructor(private readonly slots = REGULAR_SLOTS) {}

  /** Returns the ids that should be unchoked now; everyone else is choked. */
  decide(peers: readonly ChokerPeer[], seeding: boolean, now: number): Set<number> {
    const interested = peers.filter((p) => p.peerInterested);
    const unchoke = new Set<number>();
    const regular = seeding ? this.seedOrder(interested, now) : [...interested].sort((a, b) => b.downRate() - a.downRate());
    for (const peer of regular.slice(0, this.slots)) unchoke.add(peer.id);

    const optimisticGone = this.optimisticId === null || !interested.some((p) => p.id === this.optimisticId);
    if (optimisticGone || now - this.optimisticSince >= OPTIMISTIC_INTERVAL_MS) {
      const candidates = interested.filter((p) => !unchoke.has(p.id) && p.id !== this.optimisticId);
      const pick = candidates[Math.floor(Math.random() * candidates.length)];
      this.optimisticId = pick?.id ?? (optimisticGone ? null : this.optimisticId);
      this.optimisticSince = now;
    }
    if (this.optimisticId !== null) unchoke.add(this.optimisticId);

    for (const peer of peers) {
      if (unchoke.has(peer.id)) {
        if (!this.unchokedSince.has(peer.id)) this.unchokedSince.set(peer.id, now);
        this.chokedSince.delete(peer.id);
      } else {
        if (!this.chokedSince.has(peer.id)) this.chokedSince.set(peer.id, now);
        this.unchokedSince.delete(peer.id);
      }
    }
    return unchoke;
  }

  /** A new interested peer while a slot is free: unchoke it now rather than at the next round. */
  hasFreeSlot(peers: readonly ChokerPeer[]): boolean {
    let unchoked = 0;
    for (const p of peers) if (!p.amChoking && p.peerInterested && p.id !== this.optimisticId) unchoked++;
    return unchoked < this.slots;
  }

  forget(id: number): void {
    this.unchokedSince.delete(id);
    this.chokedSince.delete(id);
    if (this.optimisticId === id) this.optimisticId = null;
  }

  private seedOrder(interested: ChokerPeer[], now: number): ChokerPeer[] {
    // Holders within their turn keep it (fastest first); then peers that waited longest; expired holders last.
    const held = (p: ChokerPeer) => {
      const since = this.unchokedSince.get(p.id);
      return since !== undefined && !p.amChoking && now - since < OPTIMISTIC_INTERVAL_MS;
    };
    const holders = interested.filter(held).sort((a, b) => b.upRate() - a.upRate());
    const waiting = interested.filter((p) => p.amChoking).sort((a, b) => (this.chokedSince.get(a.id) ?? now) - (this.chokedSince.get(b.id) ?? now));
    const expired = interested.filter((p) => !p.amChoking && !held(p)).sort((a, b) => b.upRate() - a.upRate());
    return [...holders, ...waiting, ...expired];
  }
}
