// The requester's address: from the runtime (getConnInfo), or from a proxy header / the `ip`
// parameter only when the configuration says to trust them. Always returned in canonical form.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../shared/compact.ts";
import type { TrackerConfig } from "./config.ts";
import { TrackerError } from "./errors.ts";
import type { RawQuery } from "./query.ts";

/** Canonical text of an address ("1.2.3.4", "2001:db8::1"); IPv4-mapped IPv6 becomes IPv4. Null if invalid. */
export function normalizeIp(raw: string): string | null {
  let text = raw.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  if (!text.includes(":")) {
    const v4 = parseIPv4(text);
    return v4 ? formatIPv4(v4) : null;
  }
  const v6 = parseIPv6(text);
  if (!v6) return null;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? formatIPv4(v6.subarray(12)) : formatIPv6(v6);
}

/** Most addresses canonicalIp remembers; it starts over when full. */
const REMEMBERED_IPS = 4096;
const canonicalIps = new Map<string, string | null>();

/**
 * normalizeIp of a runtime's address text, remembered: parsing it again for each request was a
 * measurable share of an announce, and a tracker hears from the same addresses again and again.
 */
export function canonicalIp(raw: string): string | null {
  let ip = canonicalIps.get(raw);
  if (ip === undefined) {
    if (canonicalIps.size >= REMEMBERED_IPS) canonicalIps.clear();
    ip = normalizeIp(raw);
    canonicalIps.set(raw, ip);
  }
  return ip;
}

/**
 * The requester's address. `header` reads a request header, `runtimeIp` asks the runtime for the
 * connection's address; both are functions so that neither is read when the configuration says not to.
 */
export function resolveClientIp(
  query: RawQuery,
  config: TrackerConfig,
  header: (name: string) => string | undefined,
  runtimeIp: () => string | undefined,
): string {
  if (config.trustIpParam) {
    const param = query.text("ip");
    if (param !== undefined) {
      const ip = normalizeIp(param);
      if (!ip) throw new TrackerError("bad-param", `ip "${param}" is not an IPv4 or IPv6 address`);
      return ip;
    }
  }
  if (config.trustedProxyHeader !== "") {
    // The left-most entry is the original client; proxies append themselves.
    const value = header(config.trustedProxyHeader)?.split(",")[0];
    if (value !== undefined && value.trim() !== "") {
      const ip = normalizeIp(value);
      if (!ip) throw new TrackerError("bad-param", `${config.trustedProxyHeader} "${value}" is not an IP address`);
      return ip;
    }
  }
  return connectionIp(runtimeIp());
}

/**
 * Whether resolveClientIp reads only the connection's address under `config` (neither the `ip`
 * parameter nor a proxy header trusted): a caller may then call connectionIp directly.
 */
export function trustsConnectionOnly(config: TrackerConfig): boolean {
  return !config.trustIpParam && config.trustedProxyHeader === "";
}

/** The connection's address as the runtime gave it (`raw`), canonical; the requester's address when nothing else is trusted. */
export function connectionIp(raw: string | undefined): string {
  const ip = raw === undefined ? null : canonicalIp(raw);
  if (!ip) throw new TrackerError("no-client-ip", "the tracker could not determine your IP address");
  return ip;
}
