// Every way an API request can fail, and the one place that turns a failure into a response:
// {"error": {"code", "message"}} with the status of its code. The service's DaemonError codes and the
// API's own (about HTTP itself: JSON, sizes, media types) share one table. Anything else is a bug: logged,
// answered with a generic 500, never with its message or stack.
import { DaemonError, type DaemonErrorCode } from "../control.ts";

/** Failures of the HTTP layer, before a request reaches the service. */
export type HttpErrorCode =
  | "bad-json" // the body is not JSON, or not an object
  | "bad-hash" // the info hash in the path or query is not 40 hex digits
  | "body-too-large"
  | "unsupported-media-type"
  | "no-such-endpoint"
  | "method-not-allowed"
  | "bad-host"; // a loopback API reached under a name that is not loopback (DNS rebinding)

export type ApiErrorCode = DaemonErrorCode | HttpErrorCode | "internal";

const STATUS = {
  "not-found": 404,
  duplicate: 409,
  "no-such-tracker": 404,
  "tracker-exists": 409,
  "bad-torrent": 400,
  "bad-request": 400,
  "bad-json": 400,
  "bad-hash": 400,
  "body-too-large": 413,
  "unsupported-media-type": 415,
  "no-such-endpoint": 404,
  "method-not-allowed": 405,
  "bad-host": 403,
  internal: 500,
} as const satisfies Record<ApiErrorCode, number>;

export type ErrorStatus = (typeof STATUS)[ApiErrorCode];

export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A request that names something impossible; `field` is named first so the message says what to fix. */
export function badRequest(field: string, problem: string): DaemonError {
  return new DaemonError("bad-request", `${field} ${problem}`);
}

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** The status and body for any thrown value; `log` hears about bugs only. */
export function errorReply(error: unknown, log: (line: string) => void): { status: ErrorStatus; body: ErrorBody } {
  if (error instanceof DaemonError || error instanceof HttpError) {
    return { status: STATUS[error.code], body: { error: { code: error.code, message: error.message } } };
  }
  // Name, message and stack go to the daemon's log; the client learns only that it was not its fault.
  log(`bug in the API: ${error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)}`);
  return { status: 500, body: { error: { code: "internal", message: "internal error in the daemon; its log says more" } } };
}
