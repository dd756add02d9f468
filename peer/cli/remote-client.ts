// The daemon's HTTP API seen from `btpeer remote`: one call per request, the bearer token on each,
// and failures as RemoteError with a message that says what to do next.
import type { ErrorBody } from "../daemon/api/errors.ts";

export type RemoteErrorCode =
  | "unreachable" // nothing answers at --api
  | "no-token" // no --token, no BTPEER_TOKEN, no readable token file
  | "unauthorized" // the daemon refused the token
  | "api"; // the API answered with an error of its own (its message is shown)

export class RemoteError extends Error {
  override readonly name = "RemoteError";
  constructor(
    readonly code: RemoteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RemoteToken {
  token: string;
  /** Where it came from, for the 401 message: "--token", "BTPEER_TOKEN" or the file's path. */
  source: string;
  /** The token file of the state dir in use, named when the daemon refuses the token. */
  file: string;
}

export class RemoteApi {
  constructor(
    private readonly base: string,
    private readonly token: RemoteToken,
  ) {}

  async call<T>(method: string, path: string, body?: { json: unknown } | { bytes: Uint8Array; type: string }): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token.token}` };
    let payload: BodyInit | undefined;
    if (body && "json" in body) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body) {
      headers["content-type"] = body.type;
      payload = body.bytes as Uint8Array<ArrayBuffer>;
    }
    const url = `${this.base.replace(/\/+$/, "")}${path}`;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      throw new RemoteError(
        "unreachable",
        `cannot reach the daemon at ${this.base} (${reason}): is it running? Start it with \`btpeer daemon\`, or point --api at it`,
      );
    }
    if (response.status === 401) {
      throw new RemoteError(
        "unauthorized",
        `the daemon at ${this.base} refused the token from ${this.token.source}. The daemon keeps its token in its state dir ` +
          `(${this.token.file} by default, printed when it was created): pass it with --token or BTPEER_TOKEN, or point --state-dir at the daemon's state dir`,
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RemoteError("api", `${method} ${path}: HTTP ${response.status} with a body that is not JSON; is ${this.base} a btpeer daemon?`);
    }
    if (!response.ok) {
      const error = (parsed as Partial<ErrorBody>).error;
      throw new RemoteError("api", error ? `${error.message} (${error.code})` : `${method} ${path}: HTTP ${response.status}`);
    }
    return parsed as T;
  }
}
