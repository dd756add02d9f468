// The HTTP API's bearer token: generated into the state dir on first start (the caller prints it once,
// when `created` is true), required whenever the API listens beyond loopback, compared in constant time.
// A bad or missing token gets a bare 401: no body, nothing that tells a guess from a near miss.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isLoopbackAddress } from "../net/loopback.ts";

export const TOKEN_FILE = "api-token";

/** 32 random bytes, base64url: 43 characters, no padding. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export type TokenErrorCode =
  | "unreadable" // the token file exists but cannot be read
  | "malformed" // the file does not hold one token of our shape (edited by hand, truncated)
  | "insecure-permissions" // group or others may read it: the token may have leaked
  | "unwritable"; // the state dir does not take the new file

export class TokenError extends Error {
  override readonly name = "TokenError";
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiToken {
  readonly token: string;
  readonly path: string;
  /** True when this call generated the token: the only time it should be printed. */
  readonly created: boolean;
}

export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/**
 * The token in `<stateDir>/api-token`, generated if the file does not exist. Creation is atomic: the
 * token is written to a private temporary file (mode 0600 from its first byte) which is then hard-linked
 * to the final name; link() fails if the name exists, so two starters racing end up reading one token,
 * and a crash never leaves a half-written token under the final name.
 */
export function loadOrCreateToken(stateDir: string): ApiToken {
  const file = path.join(stateDir, TOKEN_FILE);
  if (fs.existsSync(file)) return { token: loadToken(file), path: file, created: false };
  const token = generateToken();
  const temp = path.join(stateDir, `.${TOKEN_FILE}.${process.pid}.${randomBytes(6).toString("hex")}`);
  try {
    const fd = fs.openSync(temp, "wx", 0o600);
    try {
      fs.writeSync(fd, `${token}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(temp, file);
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return { token: loadToken(file), path: file, created: false };
    throw new TokenError("unwritable", `cannot create the API token ${file}: ${(error as Error).message}`);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  return { token, path: file, created: true };
}

/** Reads and checks a token file; refuses one that others can read. */
export function loadToken(file: string): string {
  let text: string;
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new TokenError("unreadable", `cannot read the API token ${file}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new TokenError(
      "insecure-permissions",
      `the API token ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}): ` +
        `run \`chmod 600 ${file}\`, or delete it to get a new token on the next start`,
    );
  }
  const token = text.trim();
  if (!TOKEN_SHAPE.test(token)) {
    throw new TokenError("malformed", `the API token ${file} does not hold a token; delete it to get a new one on the next start`);
  }
  return token;
}

/**
 * Constant-time comparison that is also length-safe: both sides are hashed to 32 bytes first, so neither
 * the time nor an early length check tells how much of a guess was right, or how long the token is.
 */
export function tokenMatches(expected: string, presented: string | null | undefined): boolean {
  if (presented == null || presented.length === 0) return false;
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235); null otherwise. */
export function bearerToken(authorization: string | null | undefined): string | null {
  const match = /^Bearer +([^\s]+) *$/i.exec(authorization ?? "");
  return match ? match[1]! : null;
}

/** Null when the request carries the token; otherwise the 401 to send, with no body. */
export function authorize(request: Request, token: string): Response | null {
  if (tokenMatches(token, bearerToken(request.headers.get("authorization")))) return null;
  return new Response(null, { status: 401, headers: { "www-authenticate": "Bearer" } });
}

/** Whether the API must demand the token when it listens on `host`. */
export function tokenRequired(host: string): boolean {
  return !isLoopbackHost(host);
}

/**
 * True only for hosts reachable from this machine alone: a loopback address (net/loopback.ts, which also
 * reads a zone as in `::1%lo`), in brackets or not, and the name `localhost`. The wildcard addresses
 * (0.0.0.0, ::) listen on every interface and are not loopback; anything unparsable counts as not
 * loopback, so the token is required.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h === "localhost.") return true;
  return isLoopbackAddress(h);
}
