// Every peer address we have heard of (tracker, --peer, incoming) and when we may dial it again:
// failures back off exponentially, and addresses that sent bad data are banned for the session: by IP, since
// a peer can come back from a fresh port with a fresh peer id at no cost.
import type { PeerAddress } from "../../shared/compact.ts";

interface Entry {
  address: PeerAddress;
  failures: number;
  nextAttemptAt: number;
  connected: boolean;
  /** Seeds are not dialled while we seed ourselves. */
  seed: boolean;
}

const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60_000;

export const addressKey = (a: PeerAddress): string => (a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`);

/** An IP as a ban key: IPv4-mapped IPv6 is the IPv4 address, and IPv6 is compared in lower case. */
export const ipKey = (ip: string): string => {
  const lower = ip.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
};

export class PeerDirectory {
  private readonly entries = new Map<string, Entry>();
  /** Banned IPs (ipKey). */
  private readonly banned = new Set<string>();

  add(address: PeerAddress): void {
    const key = addressKey(address);
    if (!this.entries.has(key)) this.entries.set(key, { address, failures: 0, nextAttemptAt: 0, connected: false, seed: false });
  }

  get size(): number {
    return this.entries.size;
  }

  isBanned(ip: string): boolean {
    return this.banned.has(ipKey(ip));
  }

  /** Bans an IP for the session: it is neither dialled nor let in again. */
  ban(ip: string): void {
    this.banned.add(ipKey(ip));
  }

  /** Addresses worth dialling now, at most `limit`; `reachable` leaves out those we cannot dial (another IP family). */
  due(now: number, limit: number, skipSeeds: boolean, reachable?: (address: PeerAddress) => boolean): PeerAddress[] {
    const out: PeerAddress[] = [];
    for (const e of this.entries.values()) {
      if (out.length >= limit) break;
      if (e.connected || e.nextAttemptAt > now || this.isBanned(e.address.ip) || (skipSeeds && e.seed)) continue;
      if (reachable && !reachable(e.address)) continue;
      e.nextAttemptAt = now + 30_000; // until the attempt resolves
      out.push(e.address);
    }
    return out;
  }

  connected(address: PeerAddress): void {
    const e = this.entries.get(addressKey(address));
    if (!e) return;
    e.connected = true;
    e.failures = 0;
  }

  /** The connection ended (or never came up): dial again later, later still after repeated failures. */
  disconnected(address: PeerAddress, now: number, opts: { failed: boolean; seed?: boolean }): void {
    const e = this.entries.get(addressKey(address));
    if (!e) return;
    e.connected = false;
    if (opts.seed !== undefined) e.seed = opts.seed;
    if (opts.failed) e.failures++;
    e.nextAttemptAt = now + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** e.failures);
  }
}
