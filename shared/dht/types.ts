// KRPC messages of the mainline DHT (BEP 5), with BEP 32 (IPv6: nodes6, want), BEP 42 (`ip` in replies)
// and BEP 43 (`ro`, read-only nodes). Ids, hashes, tokens and transaction ids are raw bytes.
import type { PeerAddress } from "../compact.ts";

export const ID_BYTES = 20;
/** Compact node info: id + IPv4 + port (BEP 5), id + IPv6 + port (BEP 32). */
export const NODE_BYTES = { 4: 26, 6: 38 } as const;
export type Family = keyof typeof NODE_BYTES;
/** Longest transaction id accepted: real clients use 2 to 8 bytes; longer ones are only a way to make us echo bytes. */
export const MAX_TRANSACTION_ID_BYTES = 16;
/** Longest token accepted (libtorrent's are 4 bytes, ours 8); a token is echoed back, so it is bounded. */
export const MAX_TOKEN_BYTES = 64;

/** A node as the DHT passes it around: its 20-byte id and where it answers. */
export interface NodeInfo {
  id: Uint8Array;
  ip: string;
  port: number;
}

/** BEP 32 `want`: which families of nodes the asker wants back. */
export type Want = readonly ("n4" | "n6")[];

interface QueryBase {
  type: "query";
  transactionId: Uint8Array;
  /** The asker's node id. */
  id: Uint8Array;
  /** BEP 43: a read-only node asks but must not be added to routing tables. */
  readOnly?: boolean;
  /** Client version (`v`), opaque. */
  version?: Uint8Array;
}

export interface PingQuery extends QueryBase {
  method: "ping";
}
export interface FindNodeQuery extends QueryBase {
  method: "find_node";
  target: Uint8Array;
  want?: Want;
}
export interface GetPeersQuery extends QueryBase {
  method: "get_peers";
  infoHash: Uint8Array;
  want?: Want;
}
export interface AnnouncePeerQuery extends QueryBase {
  method: "announce_peer";
  infoHash: Uint8Array;
  /** The port to list; when `impliedPort` is set the sender's UDP source port is meant instead. */
  port: number;
  impliedPort: boolean;
  token: Uint8Array;
}
/** A query whose method we do not serve (BEP 44 get/put, sample_infohashes...): answered with error 204. */
export interface OtherQuery extends QueryBase {
  method: "other";
  name: string;
}
export type KrpcQuery = PingQuery | FindNodeQuery | GetPeersQuery | AnnouncePeerQuery | OtherQuery;
export type QueryMethod = Exclude<KrpcQuery["method"], "other">;

/**
 * A reply. KRPC replies do not name the query they answer (the transaction id does), so every optional
 * field of every method is here; the node checks what it expects for the query it sent.
 */
export interface KrpcResponse {
  type: "response";
  transactionId: Uint8Array;
  id: Uint8Array;
  nodes?: NodeInfo[];
  nodes6?: NodeInfo[];
  /** get_peers: peers of the torrent (both families may be present). */
  values?: PeerAddress[];
  token?: Uint8Array;
  /** BEP 42: the address the replier saw us at. */
  ip?: PeerAddress;
  readOnly?: boolean;
  version?: Uint8Array;
}

export const ERROR_CODES = { generic: 201, server: 202, protocol: 203, methodUnknown: 204 } as const;

export interface KrpcErrorMessage {
  type: "error";
  transactionId: Uint8Array;
  code: number;
  message: string;
  ip?: PeerAddress;
}

export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcErrorMessage;
