// An iterative Kademlia lookup (BEP 5): ask the closest known nodes, `alpha` at a time, for nodes closer
// still, until the `k` closest that answered have all been asked. Bounded in every direction: at most
// `maxQueries` queries, at most `maxCandidates` nodes remembered, at most `maxValues` peers collected.
// The network part is a function, so the algorithm is tested without sockets.
import type { PeerAddress } from "../../shared/compact.ts";
import type { NodeInfo } from "../../shared/dht/types.ts";
import { compareDistance } from "./node-id.ts";

export interface LookupLimits {
  alpha: number;
  k: number;
  maxQueries: number;
  maxCandidates: number;
  maxValues: number;
  /**
   * A node that has not answered after this long counts as failed for the lookup, which moves on (its
   * query still runs to its own timeout, for the routing table): one dead node must not hold a lookup
   * for the whole query timeout, nor a query that never settles hold it at all.
   */
  slowMs: number;
}

export const DEFAULT_LOOKUP_LIMITS: LookupLimits = { alpha: 3, k: 8, maxQueries: 96, maxCandidates: 64, maxValues: 500, slowMs: 1000 };

/** What one queried node gave back; null when it did not answer. */
export interface LookupReply {
  /** The id it answered with (may differ from what another node told us it was). */
  id: Uint8Array;
  nodes: NodeInfo[];
  values?: PeerAddress[];
  token?: Uint8Array;
}

export interface LookupResult {
  /** The k closest nodes that answered, closest first, with the token each gave (get_peers). */
  closest: { node: NodeInfo; token?: Uint8Array }[];
  values: PeerAddress[];
  queries: number;
}

type CandidateState = "new" | "asking" | "answered" | "failed";
interface Candidate {
  node: NodeInfo;
  state: CandidateState;
  token?: Uint8Array;
}

const key = (n: { ip: string; port: number }) => `${n.ip}|${n.port}`;

export function iterativeLookup(
  target: Uint8Array,
  seeds: readonly NodeInfo[],
  query: (node: NodeInfo) => Promise<LookupReply | null>,
  limits: LookupLimits = DEFAULT_LOOKUP_LIMITS,
): Promise<LookupResult> {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const values = new Map<string, PeerAddress>();
  let queries = 0;
  let inFlight = 0;

  const consider = (node: NodeInfo) => {
    const k = key(node);
    if (seen.has(k)) return;
    seen.add(k);
    candidates.push({ node, state: "new" });
    candidates.sort((a, b) => compareDistance(target, a.node.id, b.node.id));
    // Forget the farthest never-asked node past the bound; nodes in flight or answered stay.
    if (candidates.length > limits.maxCandidates) {
      const far = candidates.findLastIndex((c) => c.state === "new" || c.state === "failed");
      if (far >= 0) candidates.splice(far, 1);
    }
  };
  for (const node of seeds) consider(node);

  /** The next node worth asking: unasked and among the k closest not known to have failed. */
  const nextToAsk = (): Candidate | undefined => {
    let rank = 0;
    for (const c of candidates) {
      if (c.state === "failed") continue;
      if (rank++ >= limits.k) return undefined;
      if (c.state === "new") return c;
    }
    return undefined;
  };

  return new Promise((resolve) => {
    const finish = () => {
      const closest = candidates
        .filter((c) => c.state === "answered")
        .slice(0, limits.k)
        .map((c) => (c.token ? { node: c.node, token: c.token } : { node: c.node }));
      resolve({ closest, values: [...values.values()], queries });
    };
    const pump = () => {
      for (;;) {
        if (queries >= limits.maxQueries || inFlight >= limits.alpha) break;
        const next = nextToAsk();
        if (!next) break;
        next.state = "asking";
        queries++;
        inFlight++;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const slow = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), limits.slowMs)));
        Promise.race([query(next.node), slow]).then(
          (reply) => {
            clearTimeout(timer);
            settle(next, reply);
          },
          () => {
            clearTimeout(timer);
            settle(next, null);
          },
        );
      }
      if (inFlight === 0) finish();
    };
    const settle = (c: Candidate, reply: LookupReply | null) => {
      inFlight--;
      if (!reply) {
        c.state = "failed";
      } else {
        c.state = "answered";
        c.node = { id: reply.id, ip: c.node.ip, port: c.node.port };
        if (reply.token) c.token = reply.token;
        for (const v of reply.values ?? []) if (values.size < limits.maxValues) values.set(key(v), v);
        for (const n of reply.nodes) consider(n);
        candidates.sort((a, b) => compareDistance(target, a.node.id, b.node.id));
      }
      pump();
    };
    pump();
  });
}
