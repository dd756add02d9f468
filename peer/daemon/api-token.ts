// The HTTP API's bearer token: generated into the state dir on first start (the caller prints it once,
// when `created` is true), required whenever the API listens beyond loopback, compared in constant time.
// A bad or missing token gets a bare 401: no body, nothing that tells a guess from a near miss.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

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
 * True only for addresses reachable from this machine alone: 127.0.0.0/8, ::1, IPv4-mapped loopback
 * (::ffff:127.x.y.z) and the name `localhost`. The wildcard addresses (0.0.0.0, ::) listen on every
 * interface and are not loopback; anything unparsable counts as not loopback, so the token is required.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h === "localhost.") return true;
  const v4 = parseIPv4(h);
  if (v4) return v4[0] === 127;
  const v6 = parseIPv6(h.replace(/%[^%]+$/, "")); // a zone (`::1%lo`) does not change the address
  if (!v6) return false;
  const zeros = (from: number, to: number) => v6.slice(from, to).every((w) => w === 0);
  if (zeros(0, 7) && v6[7] === 1) return true; // ::1
  if (zeros(0, 5) && v6[5] === 0xffff) return v6[6]! >>> 8 === 127; // ::ffff:127.x.y.z
  return false;
}

/** Strict dotted quad (four decimal parts 0-255), else null. */
function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** The eight 16-bit words of an IPv6 address (with `::` and a trailing dotted quad), else null. */
function parseIPv6(text: string): number[] | null {
  if (!text.includes(":")) return null;
  let tail: number[] = [];
  let rest = text;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    rest = `${text.slice(0, lastColon + 1)}0`; // a placeholder word, dropped below
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const words = (s: string) => (s === "" ? [] : s.split(":"));
  const head = words(halves[0]!);
  const back = halves.length === 2 ? words(halves[1]!) : [];
  if (![...head, ...back].every((w) => /^[0-9a-f]{1,4}$/.test(w))) return null;
  const parsed = (ws: string[]) => ws.map((w) => parseInt(w, 16));
  let backWords = parsed(back);
  let headWords = parsed(head);
  if (tail.length > 0) {
    // The placeholder is the last word of the text, so of its last half: swap it for the quad's two words.
    if (halves.length === 2) backWords = [...backWords.slice(0, -1), ...tail];
    else headWords = [...headWords.slice(0, -1), ...tail];
  }
  const fill = 8 - headWords.length - backWords.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  return [...headWords, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...backWords];
}
