// Our address as other nodes see it (BEP 42 replies carry it as `ip`): what our node id should be made
// from. One vote per replying host, the most recent MAX_VOTERS hosts only, and an answer only once
// MIN_VOTES distinct hosts agree on more than half: a single node cannot talk us into a new address.

const MAX_VOTERS = 64;
const MIN_VOTES = 5;

export class ExternalIpVotes {
  /** voter IP -> the address it reported; Map order is recency. */
  private readonly votes = new Map<string, string>();

  vote(reported: string, voter: string): void {
    this.votes.delete(voter);
    this.votes.set(voter, reported);
    if (this.votes.size > MAX_VOTERS) this.votes.delete(this.votes.keys().next().value!);
  }

  /** The address a clear majority reports, or undefined. */
  get address(): string | undefined {
    if (this.votes.size < MIN_VOTES) return undefined;
    const counts = new Map<string, number>();
    for (const ip of this.votes.values()) counts.set(ip, (counts.get(ip) ?? 0) + 1);
    for (const [ip, n] of counts) if (n >= MIN_VOTES && n * 2 > this.votes.size) return ip;
    return undefined;
  }
}
