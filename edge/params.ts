// Readers for single tracker query parameters, each failing with a TrackerError that names it.
import { toHex } from "../shared/bytes.ts";
import { TrackerError } from "./errors.ts";
import type { RawQuery } from "./query.ts";

/** A 20-byte binary id (`info_hash`, `peer_id`) as 40 lowercase hex digits. */
export function readId(query: RawQuery, name: "info_hash" | "peer_id"): string {
  const bytes = query.bytes(name);
  if (bytes === undefined) throw new TrackerError("missing-param", `missing ${name}`);
  return idToHex(bytes, name);
}

export function idToHex(bytes: Uint8Array, name: "info_hash" | "peer_id"): string {
  if (bytes.length !== 20) {
    throw new TrackerError(
      name === "info_hash" ? "bad-info-hash" : "bad-peer-id",
      `${name} must be 20 bytes (percent-encoded), got ${bytes.length}`,
    );
  }
  return toHex(bytes);
}

/** A non-negative decimal integer (up to 20 digits: 64-bit byte counts). */
export function readCount(query: RawQuery, name: string, required: boolean): number | undefined {
  const text = query.text(name);
  if (text === undefined || (text === "" && !required)) {
    if (required) throw new TrackerError("missing-param", `missing ${name}`);
    return undefined;
  }
  if (!/^\d{1,20}$/.test(text)) throw new TrackerError("bad-param", `${name} must be a non-negative integer, got "${text.slice(0, 32)}"`);
  return Number(text);
}

export function readPort(query: RawQuery): number {
  const text = query.text("port");
  if (text === undefined) throw new TrackerError("missing-param", "missing port");
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new TrackerError("bad-port", `port must be 1-65535, got "${text.slice(0, 32)}"`);
  return port;
}
