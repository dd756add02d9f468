// Reading an HTTP tracker's announce reply (BEP 3, compact peers BEP 23, IPv6 `peers6` BEP 7): bytes
// from the network in, peers and the re-announce interval out, or a TrackerError. No I/O here.
import { decode, type BDict, type BValue } from "../../shared/bencode.ts";
import { utf8 } from "../../shared/bytes.ts";
import { decodeCompactPeers, type PeerAddress } from "../../shared/compact.ts";

export interface AnnounceResult {
  tracker: string;
  peers: PeerAddress[];
  interval: number;
  /** Leechers the tracker counts in the swarm (HTTP `incomplete`, UDP `leechers`), when it says. */
  leechers?: number;
  warning?: string;
}

export class TrackerError extends Error {
  override readonly name = "TrackerError";
  constructor(
    /** "failure": the tracker answered with a `failure reason`; "unreachable": no tracker answered. */
    readonly code: "failure" | "unreachable" | "bad-response",
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_INTERVAL_S = 1800;
const MIN_INTERVAL_S = 5;
/**
 * A day: far beyond what trackers ask for (~30 min), and well inside what a timer can wait (2^31 ms,
 * ~24.8 days; setTimeout fires after 1 ms for anything longer, which turned a huge interval into an
 * announce loop).
 */
const MAX_INTERVAL_S = 24 * 3600;

/** A tracker's re-announce interval (seconds) as btpeer waits it: the default for none, within [5 s, a day]. */
export function clampInterval(seconds: number): number {
  return Math.min(MAX_INTERVAL_S, Math.max(MIN_INTERVAL_S, seconds > 0 ? seconds : DEFAULT_INTERVAL_S));
}

/** The reply of `tracker` (HTTP `status`, `body`); throws TrackerError for a `failure reason` or a body that is not a reply. */
export function readAnnounceReply(tracker: string, status: number, body: Uint8Array): AnnounceResult {
  let dict: BDict;
  try {
    // Replies from the wild: key order is not ours to insist on (some trackers write theirs by hand).
    const value = decode(body, { strictKeyOrder: false });
    if (!isDict(value)) throw new Error("not a dictionary");
    dict = value;
  } catch {
    throw new TrackerError("bad-response", `HTTP ${status}, not a bencoded reply`);
  }
  const failure = dict["failure reason"];
  if (failure instanceof Uint8Array) throw new TrackerError("failure", `tracker says: ${utf8.decode(failure)}`);
  const warning = dict["warning message"];
  return {
    tracker,
    peers: [...readPeers(dict.peers, 4), ...readPeers(dict.peers6, 6)],
    interval: clampInterval(typeof dict.interval === "number" ? dict.interval : 0),
    ...(typeof dict.incomplete === "number" && dict.incomplete >= 0 ? { leechers: dict.incomplete } : {}),
    ...(warning instanceof Uint8Array ? { warning: utf8.decode(warning) } : {}),
  };
}

function isDict(value: BValue): value is BDict {
  return typeof value === "object" && !(value instanceof Uint8Array) && !Array.isArray(value);
}

/** Compact strings, or the original list of dictionaries some trackers still send. */
function readPeers(value: BValue | undefined, family: 4 | 6): PeerAddress[] {
  if (value instanceof Uint8Array) {
    try {
      return decodeCompactPeers(value, family);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(value)) return [];
  const peers: PeerAddress[] = [];
  for (const entry of value) {
    if (!isDict(entry)) continue;
    const ip = entry.ip instanceof Uint8Array ? utf8.decode(entry.ip) : null;
    const port = entry.port;
    if (ip && typeof port === "number" && port > 0 && port < 65536) peers.push({ ip, port });
  }
  return peers;
}
