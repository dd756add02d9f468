// Node ids: 160-bit values as 20 bytes, XOR distance, and BEP 42's tie between an id and the node's IP
// (the first 21 bits are the CRC32-C of the masked address), which keeps one host from choosing ids
// next to a target it wants to eclipse.
import { isIPv6, parseIPv4, parseIPv6 } from "../../shared/compact.ts";

export const ID_BYTES = 20;
export const ID_BITS = 160;

export function randomId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ID_BYTES));
}

/** -1, 0, 1 as a's distance to target is smaller, equal, larger than b's. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da < db ? -1 : 1;
  }
  return 0;
}

/** Leading bits a and b share (160 when equal): the bucket a node falls in relative to our id. */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/** A random id sharing exactly `bits` leading bits with `base` (then differing): a target inside one bucket. */
export function randomIdInBucket(base: Uint8Array, bits: number): Uint8Array {
  const out = randomId();
  for (let i = 0; i < bits; i++) setBit(out, i, getBit(base, i));
  if (bits < ID_BITS) setBit(out, bits, 1 - getBit(base, bits));
  return out;
}

const getBit = (id: Uint8Array, i: number) => (id[i >> 3]! >> (7 - (i & 7))) & 1;
function setBit(id: Uint8Array, i: number, v: number): void {
  const mask = 1 << (7 - (i & 7));
  id[i >> 3] = v ? id[i >> 3]! | mask : id[i >> 3]! & ~mask;
}

// --- CRC32-C (Castagnoli), as BEP 42 specifies -------------------------------------------------------

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// --- BEP 42 ----------------------------------------------------------------------------------------

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/** The CRC32-C of the address masked as BEP 42 says, with `r` (0-7) in the top bits. */
function restrictedCrc(addr: Uint8Array, r: number): number {
  const mask = addr.length === 4 ? V4_MASK : V6_MASK;
  const masked = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) masked[i] = addr[i]! & mask[i]!;
  masked[0] = masked[0]! | ((r & 7) << 5);
  return crc32c(masked);
}

function addressBytes(ip: string): Uint8Array | null {
  return isIPv6(ip) ? parseIPv6(ip) : parseIPv4(ip);
}

/** A fresh id valid for `ip` under BEP 42 (random when `ip` is not an address). */
export function generateIdForAddress(ip: string, random: Uint8Array = randomId()): Uint8Array {
  const addr = addressBytes(ip);
  const id = random.slice(0, ID_BYTES);
  if (!addr) return id;
  const r = id[19]! & 7;
  const crc = restrictedCrc(addr, r);
  id[0] = crc >>> 24;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 7);
  return id;
}

/** Whether `id` carries the BEP 42 prefix of `ip` (its last byte's low bits pick `r`). */
export function idMatchesAddress(id: Uint8Array, ip: string): boolean {
  const addr = addressBytes(ip);
  if (!addr || id.length !== ID_BYTES) return false;
  const crc = restrictedCrc(addr, id[19]! & 7);
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8);
}

/**
 * Whether BEP 42 applies to `ip`: not to loopback, private, link-local, CGNAT or unique-local ranges,
 * whose hosts cannot be told apart from outside (libtorrent exempts them the same way).
 */
export function isGlobalAddress(ip: string): boolean {
  const addr = addressBytes(ip);
  if (!addr) return false;
  if (addr.length === 16) {
    if (addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff)
      return isGlobalAddress(`${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`);
    if (addr.subarray(0, 15).every((b) => b === 0)) return false; // :: and ::1
    if ((addr[0]! & 0xfe) === 0xfc) return false; // fc00::/7 unique local
    if (addr[0] === 0xfe && (addr[1]! & 0xc0) === 0x80) return false; // fe80::/10 link-local
    return true;
  }
  const [a, b] = [addr[0]!, addr[1]!];
  if (a === 0 || a === 10 || a === 127) return false;
  if (a === 100 && (b & 0xc0) === 64) return false; // 100.64/10 CGNAT
  if (a === 169 && b === 254) return false;
  if (a === 172 && (b & 0xf0) === 16) return false;
  if (a === 192 && b === 168) return false;
  return true;
}
