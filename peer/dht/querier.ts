// The asking side of the node: sends queries through the outstanding-query table, records in the
// routing tables who answered (and who did not), counts the addresses replies say we have (BEP 42),
// and runs iterative lookups per address family on top of that.
import { encodeMessage, type KrpcQuery, type KrpcResponse, type NodeInfo } from "../../shared/dht/index.ts";
import { DhtError } from "./errors.ts";
import { ExternalIpVotes } from "./external-ip.ts";
import { iterativeLookup, type LookupLimits, type LookupReply, type LookupResult } from "./lookup.ts";
import { QueryTable } from "./query-table.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { DhtTransport, Family } from "./transport.ts";

/** Nodes of the other family pinged after one lookup, at most (and only while that table is small). */
const CROSS_FAMILY_PINGS = 16;

export type QueryBody = DistributiveOmit<KrpcQuery, "type" | "transactionId" | "id">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class Querier {
  readonly queries: QueryTable;
  readonly ipVotes = new ExternalIpVotes();
  private closed = false;

  constructor(
    private readonly ownId: Uint8Array,
    private readonly transports: Partial<Record<Family, DhtTransport>>,
    private readonly tables: Partial<Record<Family, RoutingTable>>,
    /** Whether a node that answered may enter a table (BEP 42 id check, not a bootstrap router). */
    private readonly admissible: (node: NodeInfo) => boolean,
    private readonly limits: LookupLimits,
    maxOutstanding: number,
    timeoutMs: number,
  ) {
    this.queries = new QueryTable(maxOutstanding, timeoutMs);
  }

  families(): Family[] {
    return ([4, 6] as const).filter((f) => this.transports[f]);
  }

  /**
   * Sends one query and waits for its reply. Resolves null on a timeout, an error reply or a full query
   * table; a node that answers is recorded in the routing table (if admissible), one that does not is
   * marked failed.
   */
  async query(family: Family, to: { ip: string; port: number }, body: QueryBody): Promise<KrpcResponse | null> {
    const transport = this.transports[family];
    const table = this.tables[family];
    if (!transport || !table || this.closed) return null;
    let outcome;
    try {
      outcome = await this.queries.open(to.ip, to.port, (transactionId) =>
        transport.send(encodeMessage({ ...body, type: "query", transactionId, id: this.ownId } as KrpcQuery), to.ip, to.port),
      );
    } catch (error) {
      if (error instanceof DhtError && error.code === "busy") return null;
      throw error;
    }
    if (outcome.kind === "timeout") {
      table.failed(to);
      return null;
    }
    if (outcome.kind === "error") return null;
    const reply = outcome.response;
    const node = { id: reply.id, ip: to.ip, port: to.port };
    if (!reply.readOnly && this.admissible(node)) table.heard(node, true);
    if (reply.ip) this.ipVotes.vote(reply.ip.ip, to.ip);
    return reply;
  }

  /** One lookup in every family, seeded from the tables and `extraSeeds`. */
  lookupAll(target: Uint8Array, method: "find_node" | "get_peers", extraSeeds: readonly NodeInfo[] = []): Promise<LookupResult[]> {
    return Promise.all(this.families().map((f) => this.lookup(f, target, method, extraSeeds)));
  }

  async lookup(family: Family, target: Uint8Array, method: "find_node" | "get_peers", extraSeeds: readonly NodeInfo[] = []): Promise<LookupResult> {
    const inFamily = (n: NodeInfo) => n.ip.includes(":") === (family === 6) && !sameBytes(n.id, this.ownId);
    const seeds = [...(this.tables[family]?.closest(target, this.limits.k * 2) ?? []), ...extraSeeds].filter(inFamily);
    // BEP 32: with a socket of the other family too, ask for both kinds of nodes; those of the other
    // family are pinged afterwards (and enter its table by answering), so one family fills the other.
    const other: Family = family === 4 ? 6 : 4;
    const want = this.transports[other] ? (["n4", "n6"] as const) : undefined;
    const crossFamily = new Map<string, NodeInfo>();
    const ask = async (node: NodeInfo): Promise<LookupReply | null> => {
      const body: QueryBody = method === "find_node" ? { method, target, want } : { method, infoHash: target, want };
      const reply = await this.query(family, node, body);
      if (!reply) return null;
      for (const n of (family === 4 ? reply.nodes6 : reply.nodes) ?? []) {
        if (crossFamily.size < CROSS_FAMILY_PINGS && !sameBytes(n.id, this.ownId)) crossFamily.set(`${n.ip}|${n.port}`, n);
      }
      const nodes = (family === 4 ? reply.nodes : reply.nodes6) ?? [];
      return { id: reply.id, nodes: nodes.filter(inFamily), values: reply.values, token: reply.token };
    };
    const result = await iterativeLookup(target, seeds, ask, this.limits);
    const otherTable = this.tables[other];
    if (otherTable && otherTable.size < this.limits.k * 4) {
      const known = new Set(otherTable.all().map((n) => `${n.ip}|${n.port}`));
      for (const [key, n] of crossFamily) if (!known.has(key)) void this.query(other, n, { method: "ping" });
    }
    return result;
  }

  close(): void {
    this.closed = true;
    this.queries.clear();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
