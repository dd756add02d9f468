// Answers to incoming queries (BEP 5). Every reply is bounded whatever the query asks: at most K nodes
// per family and MAX_VALUES peers, so one small query can never buy a large packet (no amplification).
import type { PeerAddress } from "../../shared/compact.ts";
import { ERROR_CODES, type KrpcMessage, type KrpcQuery, type KrpcResponse, type NodeInfo } from "../../shared/dht/types.ts";
import type { PeerStore } from "./peer-store.ts";
import type { RoutingTable } from "./routing-table.ts";
import type { TokenManager } from "./tokens.ts";
import type { Family } from "./transport.ts";

/** Peers in one get_peers reply: 32 × 18 bytes for IPv6 keeps the whole reply under one 1500-byte packet. */
export const MAX_VALUES = 32;
/** No reply of ours is larger than this; the fuzz test holds the node to it. */
export const MAX_REPLY_BYTES = 1500;

export interface ResponderContext {
  ownId: Uint8Array;
  tables: Partial<Record<Family, RoutingTable>>;
  tokens: TokenManager;
  store: PeerStore;
  version: Uint8Array;
}

export function answer(ctx: ResponderContext, query: KrpcQuery, from: PeerAddress, family: Family): KrpcMessage {
  const base: KrpcResponse = { type: "response", transactionId: query.transactionId, id: ctx.ownId, ip: from, version: ctx.version };
  const error = (code: number, message: string): KrpcMessage => ({ type: "error", transactionId: query.transactionId, code, message, ip: from });
  switch (query.method) {
    case "ping":
      return base;
    case "find_node":
      return { ...base, ...nodesFor(ctx, query.target, query.want, family) };
    case "get_peers": {
      const values = ctx.store.get(query.infoHash, family, MAX_VALUES);
      return {
        ...base,
        token: ctx.tokens.issue(from.ip),
        ...(values.length > 0 ? { values } : {}),
        ...nodesFor(ctx, query.infoHash, query.want, family),
      };
    }
    case "announce_peer": {
      if (!ctx.tokens.check(query.token, from.ip)) return error(ERROR_CODES.protocol, "bad token");
      const port = query.impliedPort ? from.port : query.port;
      // A full store still answers: the announcer cannot tell, and retries elsewhere on its own schedule.
      ctx.store.add(query.infoHash, { ip: from.ip, port });
      return base;
    }
    case "other":
      return error(ERROR_CODES.methodUnknown, "Method Unknown");
  }
}

/** BEP 32: nodes of the asker's family unless `want` names others (and we have a table for them). */
function nodesFor(ctx: ResponderContext, target: Uint8Array, want: readonly string[] | undefined, family: Family): { nodes?: NodeInfo[]; nodes6?: NodeInfo[] } {
  const wanted = want && want.length > 0 ? want : [family === 4 ? "n4" : "n6"];
  const pick = (f: Family) => (ctx.tables[f]?.closest(target) ?? []).map(({ id, ip, port }) => ({ id, ip, port }));
  return {
    ...(wanted.includes("n4") ? { nodes: pick(4) } : {}),
    ...(wanted.includes("n6") ? { nodes6: pick(6) } : {}),
  };
}
