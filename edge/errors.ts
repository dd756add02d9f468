// Every way a tracker request can fail, with a stable code. app.ts turns these into a bencoded
// `failure reason` in one place (errorResponse); nothing else writes failure replies.

export type TrackerErrorCode =
  | "missing-param"
  | "bad-param"
  | "bad-info-hash"
  | "bad-peer-id"
  | "bad-port"
  | "bad-query-encoding"
  | "query-too-long"
  | "too-many-hashes"
  | "full-scrape-disabled"
  | "not-allowed"
  | "passkey-required"
  | "unknown-passkey"
  | "method-not-allowed"
  | "not-found"
  | "bad-host"
  | "no-client-ip"
  | "store-unavailable"
  | "not-configured"
  | "internal";

/** HTTP status for each code, for paths other than /announce and /scrape (those always answer 200). */
const STATUS: Record<TrackerErrorCode, number> = {
  "missing-param": 400,
  "bad-param": 400,
  "bad-info-hash": 400,
  "bad-peer-id": 400,
  "bad-port": 400,
  "bad-query-encoding": 400,
  "query-too-long": 414,
  "too-many-hashes": 400,
  "full-scrape-disabled": 403,
  "not-allowed": 403,
  "passkey-required": 403,
  "unknown-passkey": 403,
  "method-not-allowed": 405,
  "not-found": 404,
  "bad-host": 400,
  "no-client-ip": 400,
  "store-unavailable": 503,
  "not-configured": 503,
  internal: 500,
};

export class TrackerError extends Error {
  override readonly name = "TrackerError";
  constructor(
    readonly code: TrackerErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export const STORE_UNAVAILABLE_MESSAGE = "tracker temporarily unavailable, please retry later";
