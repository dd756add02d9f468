// Compact peer lists (BEP 23 for IPv4, BEP 7 for IPv6): address bytes then a big-endian port.

export interface PeerAddress {
  /** Dotted IPv4 ("1.2.3.4") or IPv6 in its canonical compressed form ("::1"). */
  ip: string;
  port: number;
}

export class CompactError extends Error {
  override readonly name = "CompactError";
  constructor(
    readonly code: "bad-length" | "bad-address" | "bad-port",
    message: string,
  ) {
    super(message);
  }
}

export function isIPv6(ip: string): boolean {
  return ip.includes(":");
}

/** Parses dotted IPv4 into 4 bytes, or returns null. */
export function parseIPv4(ip: string): Uint8Array | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parses any textual IPv6 (with "::", or an embedded IPv4 tail) into 16 bytes, or returns null. */
export function parseIPv6(ip: string): Uint8Array | null {
  let text = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  // A zone ("fe80::1%eth0") names an interface, not part of the address: it must name one (RFC 4007).
  const zone = text.indexOf("%");
  if (zone >= 0) {
    if (!/^[0-9A-Za-z._~-]+$/.test(text.slice(zone + 1))) return null;
    text = text.slice(0, zone);
  }
  const words: number[] = [];
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (!tail) return null;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parseGroup = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroup(halves[0]!);
  const rest = halves.length === 2 ? parseGroup(halves[1]!) : [];
  if (!head || !rest) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + rest.length > 7) return null;
  words.push(...head, ...new Array(8 - head.length - rest.length).fill(0), ...rest);
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Canonical RFC 5952 text: lowercase, longest run of two or more zero words as "::". */
export function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CompactError("bad-port", `port ${port} is not 1-65535`);
}

/** One peer in compact form: 6 bytes for IPv4, 18 for IPv6. */
export function encodeCompactPeer(peer: PeerAddress): Uint8Array {
  checkPort(peer.port);
  const addr = isIPv6(peer.ip) ? parseIPv6(peer.ip) : parseIPv4(peer.ip);
  if (!addr) throw new CompactError("bad-address", `"${peer.ip}" is not an IP address`);
  const out = new Uint8Array(addr.length + 2);
  out.set(addr);
  out[addr.length] = peer.port >> 8;
  out[addr.length + 1] = peer.port & 0xff;
  return out;
}

/** Concatenates compact peers of one family (all IPv4 for `peers`, all IPv6 for `peers6`). */
export function encodeCompactPeers(peers: readonly PeerAddress[]): Uint8Array {
  const parts = peers.map(encodeCompactPeer);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Decodes a compact list; `family` 4 means 6-byte entries, 6 means 18-byte entries. */
export function decodeCompactPeers(bytes: Uint8Array, family: 4 | 6): PeerAddress[] {
  const size = family === 4 ? 6 : 18;
  if (bytes.length % size !== 0) {
    throw new CompactError("bad-length", `compact IPv${family} peers are ${size} bytes each; got ${bytes.length} bytes`);
  }
  const peers: PeerAddress[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const addr = bytes.subarray(i, i + size - 2);
    const port = (bytes[i + size - 2]! << 8) | bytes[i + size - 1]!;
    if (port === 0) continue; // a zero port cannot be dialled; skip rather than fail the whole list
    peers.push({ ip: family === 4 ? formatIPv4(addr) : formatIPv6(addr), port });
  }
  return peers;
}
