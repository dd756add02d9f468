import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  authorize,
  bearerToken,
  isLoopbackHost,
  loadOrCreateToken,
  loadToken,
  TOKEN_FILE,
  TokenError,
  tokenMatches,
  tokenRequired,
} from "../../peer/daemon/api-token.ts";
import { errorCode } from "../support/error-code.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-token-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown) => errorCode(TokenError, fn);

describe("the token file", () => {
  test("first start creates a 0600 file with a fresh token, later starts read the same one", () => {
    const dir = tempDir();
    const first = loadOrCreateToken(dir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(path.join(dir, TOKEN_FILE));
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(first.path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateToken(dir);
    expect(again).toEqual({ token: first.token, path: first.path, created: false });
    // Only the token file is left: the temporary file it was written through is gone.
    expect(fs.readdirSync(dir)).toEqual([TOKEN_FILE]);
  });

  test("two state dirs get different tokens", () => {
    expect(loadOrCreateToken(tempDir()).token).not.toBe(loadOrCreateToken(tempDir()).token);
  });

  test("a token file others can read is refused, naming the file and the fix", () => {
    const dir = tempDir();
    const { path: file } = loadOrCreateToken(dir);
    fs.chmodSync(file, 0o644);
    expect(codeOf(() => loadOrCreateToken(dir))).toBe("insecure-permissions");
    expect(() => loadToken(file)).toThrow(`chmod 600 ${file}`);
  });

  test("a truncated or edited token file is refused rather than used", () => {
    const dir = tempDir();
    const { path: file, token } = loadOrCreateToken(dir);
    fs.writeFileSync(file, token.slice(0, 20), { mode: 0o600 });
    expect(codeOf(() => loadToken(file))).toBe("malformed");
    fs.writeFileSync(file, "");
    expect(codeOf(() => loadToken(file))).toBe("malformed");
  });

  test("a state dir that does not exist is a typed error", () => {
    expect(codeOf(() => loadOrCreateToken(path.join(tempDir(), "missing")))).toBe("unwritable");
  });
});

describe("checking a presented token", () => {
  const token = "A".repeat(43);

  test("only the exact token matches", () => {
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, "A".repeat(42))).toBe(false);
    expect(tokenMatches(token, "A".repeat(44))).toBe(false);
    expect(tokenMatches(token, `B${"A".repeat(42)}`)).toBe(false);
    expect(tokenMatches(token, "")).toBe(false);
    expect(tokenMatches(token, null)).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
  });

  test("the bearer scheme is read case-insensitively; other schemes give nothing", () => {
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
    expect(bearerToken(`bearer ${token}`)).toBe(token);
    expect(bearerToken(`Basic ${token}`)).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });

  test("a bad or missing token gets a bare 401; the right one passes", async () => {
    const request = (authorization?: string) => new Request("http://127.0.0.1/api/torrents", { headers: authorization ? { authorization } : {} });
    expect(authorize(request(`Bearer ${token}`), token)).toBeNull();
    for (const bad of [undefined, "Bearer wrong", `Basic ${token}`, `Bearer ${token}x`]) {
      const response = authorize(request(bad), token)!;
      expect(response.status).toBe(401);
      expect(await response.text()).toBe("");
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
  });
});

describe("which listen addresses are loopback", () => {
  test.each([
    "127.0.0.1",
    "127.1.2.3",
    "127.255.255.255",
    "localhost",
    "LOCALHOST",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "0000:0000:0000:0000:0000:0000:0000:0001",
    "::1%lo",
    "::ffff:127.0.0.1",
    "[::ffff:127.0.0.1]",
    "::ffff:7f00:1",
    "0:0:0:0:0:ffff:127.9.9.9",
  ])("%s is loopback: no token needed", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
    expect(tokenRequired(host)).toBe(false);
  });

  test.each([
    "0.0.0.0", // every interface
    "::", // every interface
    "[::]",
    "0:0:0:0:0:0:0:0",
    "::ffff:0.0.0.0",
    "::ffff:10.0.0.1",
    "::ffff:8.8.8.8",
    "10.0.0.1",
    "192.168.1.10",
    "128.0.0.1",
    "::2",
    "1::1",
    "fe80::1%eth0",
    "::127.0.0.1", // deprecated IPv4-compatible form: not the loopback address
    "127.0.0.1.nip.io",
    "localhost.example.com",
    "127.0.0",
    "127.0.0.256",
    "0127.0.0.1x",
    "",
    "example.com",
    ":::1",
    "1:2:3:4:5:6:7:8:9",
  ])("%s is not loopback: the token is required", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
    expect(tokenRequired(host)).toBe(true);
  });
});
