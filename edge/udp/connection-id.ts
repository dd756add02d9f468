// Stateless BEP 15 connection ids: a keyed hash of the client's address, port and a time window, so
// the tracker keeps nothing per connection (nothing to exhaust) and an id proves that its holder
// received our connect reply at that address. An id is accepted in the window it was issued in and
// the next: valid for at least one window (two minutes, as BEP 15 asks), at most two.
import { halfSipHash24 } from "./halfsiphash.ts";

export const WINDOW_MS = 120_000;
export const KEY_BYTES = 16;

/** Canonical address text (up to 45 characters for IPv6), port and window number. */
const MESSAGE = new Uint8Array(45 + 2 + 4);

export class ConnectionIds {
  private readonly keyHigh: Uint8Array;
  private readonly keyLow: Uint8Array;

  /** `key`: 16 secret bytes (the same on every instance behind one address, else random per process). */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new RangeError(`a connection id key is ${KEY_BYTES} bytes, got ${key.length}`);
    // Two independent 32-bit tags make the 64-bit id: a guess is right once in 2^64.
    this.keyHigh = key.slice(0, 8);
    this.keyLow = key.slice(8, 16);
  }

  static withRandomKey(): ConnectionIds {
    return new ConnectionIds(crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
  }

  /** `ip` in canonical form (client-ip.ts normalizeIp). */
  issue(ip: string, port: number, now: number): bigint {
    return this.idFor(ip, port, Math.floor(now / WINDOW_MS));
  }

  isValid(id: bigint, ip: string, port: number, now: number): boolean {
    return this.isValidHalves(Number(id >> 32n), Number(id & 0xffff_ffffn), ip, port, now);
  }

  /**
   * isValid for an id given as its two 32-bit halves, as a request carries it big-endian: no BigInt
   * is made (building and comparing BigInts was a measurable share of a UDP announce).
   */
  isValidHalves(high: number, low: number, ip: string, port: number, now: number): boolean {
    const window = Math.floor(now / WINDOW_MS);
    return this.matches(high, low, ip, port, window) || this.matches(high, low, ip, port, window - 1);
  }

  private matches(high: number, low: number, ip: string, port: number, window: number): boolean {
    const n = writeMessage(ip, port, window);
    // The low tag is computed only when the high one matched: a wrong id costs one hash.
    return halfSipHash24(this.keyHigh, MESSAGE, n) === high && halfSipHash24(this.keyLow, MESSAGE, n) === low;
  }

  private idFor(ip: string, port: number, window: number): bigint {
    const n = writeMessage(ip, port, window);
    const high = halfSipHash24(this.keyHigh, MESSAGE, n);
    const low = halfSipHash24(this.keyLow, MESSAGE, n);
    return (BigInt(high) << 32n) | BigInt(low);
  }
}

/** The hashed message (address text, port, window) into MESSAGE; its length. */
function writeMessage(ip: string, port: number, window: number): number {
  const n = Math.min(ip.length, 45);
  for (let i = 0; i < n; i++) MESSAGE[i] = ip.charCodeAt(i);
  MESSAGE[n] = port >> 8;
  MESSAGE[n + 1] = port & 0xff;
  MESSAGE[n + 2] = window >>> 24;
  MESSAGE[n + 3] = (window >>> 16) & 0xff;
  MESSAGE[n + 4] = (window >>> 8) & 0xff;
  MESSAGE[n + 5] = window & 0xff;
  return n + 6;
}
