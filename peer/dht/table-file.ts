// The routing table as bytes, for the daemon's state: our id and the nodes worth asking again, in the
// KRPC compact forms. A restarted node asks these first and needs no bootstrap router when they answer.
import { decode, encode, BencodeError, type BDict } from "../../shared/bencode.ts";
import { decodeNodes, encodeNodes, KrpcError, type NodeInfo } from "../../shared/dht/index.ts";
import { DhtError } from "./errors.ts";

const FORMAT_VERSION = 1;

export interface SavedTable {
  id: Uint8Array;
  nodes: NodeInfo[];
}

export function encodeSavedTable(table: SavedTable): Uint8Array {
  return encode({
    v: FORMAT_VERSION,
    id: table.id,
    nodes: encodeNodes(
      table.nodes.filter((n) => !n.ip.includes(":")),
      4,
    ),
    nodes6: encodeNodes(
      table.nodes.filter((n) => n.ip.includes(":")),
      6,
    ),
  });
}

export function decodeSavedTable(bytes: Uint8Array): SavedTable {
  try {
    const value = decode(bytes, { maxDepth: 2 }) as BDict;
    if (typeof value !== "object" || value === null || value.v !== FORMAT_VERSION) throw new DhtError("bad-table", "not a saved routing table of version 1");
    const { id, nodes, nodes6 } = value;
    if (!(id instanceof Uint8Array) || id.length !== 20 || !(nodes instanceof Uint8Array) || !(nodes6 instanceof Uint8Array)) {
      throw new DhtError("bad-table", "a saved routing table needs id, nodes and nodes6");
    }
    return { id, nodes: [...decodeNodes(nodes, 4), ...decodeNodes(nodes6, 6)] };
  } catch (error) {
    if (error instanceof BencodeError || error instanceof KrpcError) throw new DhtError("bad-table", `saved routing table: ${error.message}`);
    throw error;
  }
}
