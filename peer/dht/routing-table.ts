// A Kademlia routing table (BEP 5) for one address family: buckets of K nodes by how many leading bits
// a node's id shares with ours. Bucket i holds nodes sharing exactly i bits, except the last one, which
// holds every node at least that close (the bucket our own id falls in); only that one splits, so the
// table is dense near us and sparse far away, and never holds more than 160 × (K + replacements).
//
// Nodes enter only once they have answered one of our queries (`heard` with `responded`): a spoofed
// query cannot plant an address. A full bucket keeps its good nodes; a newcomer replaces a bad one, or
// waits in the bucket's replacement cache, which refills the bucket when a node turns bad.
import type { NodeInfo } from "../../shared/dht/types.ts";
import { commonPrefixBits, compareDistance, ID_BITS } from "./node-id.ts";

export const K = 8;
/** BEP 5: a node not heard from in 15 minutes is questionable. */
export const QUESTIONABLE_AFTER_MS = 15 * 60_000;
/** Unanswered queries in a row after which a node is bad. */
export const BAD_AFTER_FAILURES = 2;

export type NodeState = "good" | "questionable" | "bad";

export interface TableNode extends NodeInfo {
  /** When it last answered one of our queries. */
  lastResponse: number;
  /** When we last heard anything from it (a reply or a query of its own). */
  lastSeen: number;
  /** Our queries it failed to answer since its last reply. */
  failures: number;
}

interface Bucket {
  nodes: TableNode[];
  /** Nodes that answered while the bucket was full, newest last; they fill the places of bad nodes. */
  replacements: TableNode[];
  /** When a node of this bucket last answered (or when the bucket was made): drives the refresh. */
  lastChanged: number;
}

export type InsertOutcome = "added" | "updated" | "replaced-bad" | "cached" | "refused";

export function nodeState(node: TableNode, now: number): NodeState {
  if (node.failures >= BAD_AFTER_FAILURES) return "bad";
  if (now - node.lastResponse < QUESTIONABLE_AFTER_MS) return "good";
  // BEP 5: a node that once answered and has queried us lately is still good.
  if (node.lastResponse > 0 && now - node.lastSeen < QUESTIONABLE_AFTER_MS) return "good";
  return "questionable";
}

const addressKey = (n: { ip: string; port: number }) => `${n.ip}|${n.port}`;

export class RoutingTable {
  private readonly buckets: Bucket[];
  /** ip|port -> node, for the main buckets: one entry per address. */
  private readonly byAddress = new Map<string, TableNode>();

  constructor(
    readonly ownId: Uint8Array,
    private readonly now: () => number = Date.now,
    readonly k = K,
  ) {
    this.buckets = [{ nodes: [], replacements: [], lastChanged: now() }];
  }

  get size(): number {
    return this.byAddress.size;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  /** Every node in the main buckets (not the replacement caches). */
  all(): TableNode[] {
    return this.buckets.flatMap((b) => b.nodes);
  }

  /** Nodes held in all, replacement caches included: what the memory bound is about. */
  held(): number {
    return this.buckets.reduce((n, b) => n + b.nodes.length + b.replacements.length, 0);
  }

  private bucketIndex(id: Uint8Array): number {
    return Math.min(commonPrefixBits(this.ownId, id), this.buckets.length - 1);
  }

  /** A node answered one of our queries (`responded`), or sent us one: record it. */
  heard(info: NodeInfo, responded: boolean): InsertOutcome {
    const now = this.now();
    const known = this.byAddress.get(addressKey(info));
    if (known) {
      // The same address with a new id is a restarted node; one that answered takes the place over.
      if (!bytesEq(known.id, info.id)) {
        if (!responded) return "refused";
        this.remove(known);
        return this.heard(info, responded);
      }
      known.lastSeen = now;
      if (responded) {
        known.lastResponse = now;
        known.failures = 0;
        this.buckets[this.bucketIndex(known.id)]!.lastChanged = now;
      }
      return "updated";
    }
    if (!responded || bytesEq(info.id, this.ownId)) return "refused";
    const node: TableNode = { id: info.id, ip: info.ip, port: info.port, lastResponse: now, lastSeen: now, failures: 0 };
    for (;;) {
      const index = this.bucketIndex(node.id);
      const bucket = this.buckets[index]!;
      // The id at another address: a node that moved, or one spoofing it. Only a place whose holder has
      // gone quiet is handed over, so a live node cannot be pushed out by someone claiming its id.
      const holder = bucket.nodes.find((n) => bytesEq(n.id, node.id));
      if (holder) {
        if (nodeState(holder, now) === "good") return "refused";
        this.remove(holder);
        continue;
      }
      if (bucket.nodes.length < this.k) {
        this.place(bucket, node, now);
        return "added";
      }
      if (index === this.buckets.length - 1 && this.buckets.length < ID_BITS) {
        this.split();
        continue;
      }
      const bad = bucket.nodes.findIndex((n) => nodeState(n, now) === "bad");
      if (bad >= 0) {
        this.byAddress.delete(addressKey(bucket.nodes[bad]!));
        bucket.nodes.splice(bad, 1);
        this.place(bucket, node, now);
        return "replaced-bad";
      }
      const cached = bucket.replacements.findIndex((n) => addressKey(n) === addressKey(node) || bytesEq(n.id, node.id));
      if (cached >= 0) bucket.replacements.splice(cached, 1);
      bucket.replacements.push(node);
      if (bucket.replacements.length > this.k) bucket.replacements.shift();
      return "cached";
    }
  }

  /** One of our queries to this address went unanswered. A bad node gives its place to a replacement. */
  failed(address: { ip: string; port: number }): void {
    const node = this.byAddress.get(addressKey(address));
    if (!node) return;
    node.failures++;
    if (nodeState(node, this.now()) !== "bad") return;
    const bucket = this.buckets[this.bucketIndex(node.id)]!;
    const replacement = bucket.replacements.pop();
    if (!replacement) return; // keep the bad node until something better comes: it may come back
    this.remove(node);
    this.place(bucket, replacement, this.now());
  }

  /**
   * The `count` nodes closest to `target`, bad ones left out. Buckets are visited in distance order
   * instead of sorting the whole table (this runs for every find_node and get_peers we answer): the
   * target's own bucket holds the closest nodes, then every deeper bucket (all at the same distance
   * prefix), then the shallower ones, each farther than the last.
   */
  closest(target: Uint8Array, count = this.k): TableNode[] {
    const now = this.now();
    const t = this.bucketIndex(target);
    const groups: Bucket[][] = [[this.buckets[t]!], this.buckets.slice(t + 1)];
    for (let j = t - 1; j >= 0; j--) groups.push([this.buckets[j]!]);
    const out: TableNode[] = [];
    for (const group of groups) {
      const nodes = group.flatMap((b) => b.nodes).filter((n) => nodeState(n, now) !== "bad");
      out.push(...nodes.sort((a, b) => compareDistance(target, a.id, b.id)));
      if (out.length >= count) break;
    }
    return out.slice(0, count);
  }

  /** Nodes to ping now: the questionable ones (BEP 5: ping before trusting or replacing them). */
  questionable(limit: number): TableNode[] {
    const now = this.now();
    return this.all()
      .filter((n) => nodeState(n, now) === "questionable")
      .slice(0, limit);
  }

  /** Buckets with no answer for `ageMs`: each gives its common-prefix length, for a refresh lookup. */
  staleBuckets(ageMs: number): number[] {
    const now = this.now();
    const out: number[] = [];
    this.buckets.forEach((b, i) => {
      if (now - b.lastChanged >= ageMs) out.push(i);
    });
    return out;
  }

  /** Marks a bucket refreshed (a lookup into it was started), so it is not picked again at once. */
  touchBucket(index: number): void {
    const bucket = this.buckets[index];
    if (bucket) bucket.lastChanged = this.now();
  }

  private place(bucket: Bucket, node: TableNode, now: number): void {
    bucket.nodes.push(node);
    bucket.lastChanged = now;
    this.byAddress.set(addressKey(node), node);
  }

  private remove(node: TableNode): void {
    const bucket = this.buckets[this.bucketIndex(node.id)]!;
    bucket.nodes = bucket.nodes.filter((n) => n !== node);
    this.byAddress.delete(addressKey(node));
  }

  /**
   * Splits the last bucket: nodes sharing more bits with us than its index move to a new last bucket.
   * The last bucket has no replacement cache to split: a full last bucket splits instead of caching.
   */
  private split(): void {
    const last = this.buckets[this.buckets.length - 1]!;
    const depth = this.buckets.length - 1;
    const next: Bucket = { nodes: [], replacements: [], lastChanged: last.lastChanged };
    const stays = (n: TableNode) => commonPrefixBits(this.ownId, n.id) === depth;
    next.nodes = last.nodes.filter((n) => !stays(n));
    last.nodes = last.nodes.filter(stays);
    this.buckets.push(next);
  }
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
