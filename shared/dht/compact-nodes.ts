// Compact node info (BEP 5: 26 bytes, BEP 32: 38 bytes): 20-byte id, address, big-endian port.
import { formatIPv4, formatIPv6, isIPv6, parseIPv4, parseIPv6, type PeerAddress } from "../compact.ts";
import { KrpcError } from "./errors.ts";
import { ID_BYTES, NODE_BYTES, type Family, type NodeInfo } from "./types.ts";

export function encodeNodes(nodes: readonly NodeInfo[], family: Family): Uint8Array {
  const size = NODE_BYTES[family];
  const out = new Uint8Array(nodes.length * size);
  nodes.forEach((node, i) => {
    if (node.id.length !== ID_BYTES) throw new KrpcError("not-encodable", `a node id is 20 bytes, got ${node.id.length}`);
    const addr = family === 4 ? parseIPv4(node.ip) : parseIPv6(node.ip);
    if (!addr) throw new KrpcError("not-encodable", `"${node.ip}" is not an IPv${family} address`);
    checkPort(node.port);
    const at = i * size;
    out.set(node.id, at);
    out.set(addr, at + ID_BYTES);
    out[at + size - 2] = node.port >> 8;
    out[at + size - 1] = node.port & 0xff;
  });
  return out;
}

/** Decodes a compact node list; entries with port 0 are skipped (they cannot be reached). */
export function decodeNodes(bytes: Uint8Array, family: Family): NodeInfo[] {
  const size = NODE_BYTES[family];
  if (bytes.length % size !== 0) {
    throw new KrpcError("bad-field", `compact IPv${family} nodes are ${size} bytes each; got ${bytes.length} bytes`);
  }
  const nodes: NodeInfo[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const port = (bytes[at + size - 2]! << 8) | bytes[at + size - 1]!;
    if (port === 0) continue;
    const addr = bytes.subarray(at + ID_BYTES, at + size - 2);
    nodes.push({ id: bytes.slice(at, at + ID_BYTES), ip: family === 4 ? formatIPv4(addr) : formatIPv6(addr), port });
  }
  return nodes;
}

/** One address in compact form (6 or 18 bytes): `values` entries and BEP 42's `ip`. */
export function encodeCompactAddress(peer: PeerAddress): Uint8Array {
  const addr = isIPv6(peer.ip) ? parseIPv6(peer.ip) : parseIPv4(peer.ip);
  if (!addr) throw new KrpcError("not-encodable", `"${peer.ip}" is not an IP address`);
  checkPort(peer.port);
  const out = new Uint8Array(addr.length + 2);
  out.set(addr);
  out[addr.length] = peer.port >> 8;
  out[addr.length + 1] = peer.port & 0xff;
  return out;
}

/** Reads a 6- or 18-byte compact address, or null for any other size or port 0. */
export function decodeCompactAddress(bytes: Uint8Array): PeerAddress | null {
  if (bytes.length !== 6 && bytes.length !== 18) return null;
  const port = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
  if (port === 0) return null;
  const addr = bytes.subarray(0, bytes.length - 2);
  return { ip: bytes.length === 6 ? formatIPv4(addr) : formatIPv6(addr), port };
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new KrpcError("not-encodable", `port ${port} is not 1-65535`);
}
