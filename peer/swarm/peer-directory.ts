// Every peer address we have heard of (tracker, --peer, incoming) and when we may dial it again:
// failures back off exponentially, and addresses that sent bad data are banned for the torrent: by IP, since
// a peer can come back from a fresh port with a fresh peer id at no cost.
import type { PeerAddress } from "../../shared/compact.ts";
import type { Attempt } from "../../shared/mse/policy.ts";

interface Entry {
  address: PeerAddress;
  failures: number;
  nextAttemptAt: number;
  connected: boolean;
  /** Seeds are not dialled while we seed ourselves. */
  seed: boolean;
  /** How our last dial that got through its BitTorrent handshake opened (MSE or plain): tried first next time. */
  worked?: Attempt;
  /** A dial there reached ourselves: never dialled again. */
  self: boolean;
}

const BACKOFF_BASE_MS = 2_000;
/** Addresses peers told us of (PEX) kept at most, whoever told them: a flood cannot grow the directory. */
export const MAX_LEARNED = 500;
const BACKOFF_MAX_MS = 5 * 60_000;

export const addressKey = (a: PeerAddress): string => (a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`);

/**
 * An IP as a ban key. IPv4 (IPv4-mapped IPv6 too) is the address itself; IPv6 is its /64, the block one
 * subscriber gets, so a peer cannot step around a ban by taking another address from it.
 */
export const ipKey = (ip: string): string => {
  const lower = ip.toLowerCase();
  if (!lower.includes(":")) return lower;
  if (lower.startsWith("::ffff:") && lower.includes(".")) return lower.slice(7);
  return `${prefix64(lower)}::/64`;
};

/** The first four groups of an IPv6 address, without leading zeros ("2001:db8:0:1"). */
function prefix64(ip: string): string {
  const [head = "", tail] = ip.split("%")[0]!.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : []);
  const before = groups(head);
  const after = groups(tail);
  const all = tail === undefined ? before : [...before, ...Array<string>(Math.max(0, 8 - before.length - after.length)).fill("0"), ...after];
  return all
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(":");
}

export class PeerDirectory {
  private readonly entries = new Map<string, Entry>();
  /** Banned IPs (ipKey). */
  private readonly banned = new Set<string>();
  /** Entries that came from peer exchange. */
  private learned = 0;

  add(address: PeerAddress): void {
    const key = addressKey(address);
    if (!this.entries.has(key)) this.entries.set(key, { address, failures: 0, nextAttemptAt: 0, connected: false, seed: false, self: false });
  }

  /** An address a peer told us of (PEX): kept when new and while fewer than MAX_LEARNED were; true when kept. */
  learn(address: PeerAddress, seed: boolean): boolean {
    const key = addressKey(address);
    if (this.entries.has(key) || this.learned >= MAX_LEARNED) return false;
    this.entries.set(key, { address, failures: 0, nextAttemptAt: 0, connected: false, seed, self: false });
    this.learned++;
    return true;
  }

  /** Dialling `address` reached ourselves (a tracker or a peer listed us): it is never dialled again. */
  markSelf(address: PeerAddress): void {
    const e = this.entries.get(addressKey(address));
    if (e) e.self = true;
  }

  get size(): number {
    return this.entries.size;
  }

  isBanned(ip: string): boolean {
    return this.banned.has(ipKey(ip));
  }

  /** A directory with no address, banning the IPs this one bans. */
  bansOnly(): PeerDirectory {
    const copy = new PeerDirectory();
    for (const ip of this.banned) copy.banned.add(ip);
    return copy;
  }

  /** Bans an IP for the torrent: it is neither dialled nor let in again. */
  ban(ip: string): void {
    this.banned.add(ipKey(ip));
  }

  /**
   * Addresses still worth a dial: not ourselves, not banned, not a seed (`skipSeeds`), and not one whose
   * last dial failed. The rest are what a tracker may tell again (and what a dormant seeder lets go).
   */
  worthDialling(skipSeeds: boolean): number {
    let n = 0;
    for (const e of this.entries.values()) if (!e.self && e.failures === 0 && !(skipSeeds && e.seed) && !this.isBanned(e.address.ip)) n++;
    return n;
  }

  /** Whether due() would give anything now (without marking it as attempted). */
  anyDue(now: number, skipSeeds: boolean, reachable?: (address: PeerAddress) => boolean): boolean {
    for (const e of this.entries.values()) {
      if (e.connected || e.nextAttemptAt > now || this.isBanned(e.address.ip) || (skipSeeds && e.seed)) continue;
      if (!reachable || reachable(e.address)) return true;
    }
    return false;
  }

  /** Addresses worth dialling now, at most `limit`; `reachable` leaves out those we cannot dial (another IP family). */
  due(now: number, limit: number, skipSeeds: boolean, reachable?: (address: PeerAddress) => boolean): PeerAddress[] {
    const out: PeerAddress[] = [];
    for (const e of this.entries.values()) {
      if (out.length >= limit) break;
      if (e.connected || e.self || e.nextAttemptAt > now || this.isBanned(e.address.ip) || (skipSeeds && e.seed)) continue;
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

  /** Our dial opened `how` got through the BitTorrent handshake. */
  worked(address: PeerAddress, how: Attempt): void {
    const e = this.entries.get(addressKey(address));
    if (e) e.worked = how;
  }

  workedWith(address: PeerAddress): Attempt | undefined {
    return this.entries.get(addressKey(address))?.worked;
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
