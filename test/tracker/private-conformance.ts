// The private tracker over HTTP, against every way the tracker is served: the admin API (auth, each
// endpoint, malformed input) and passkey announces and scrapes whose accounting the admin API then
// shows. Servers run with PRIVATE_ENV (TRACKER_PRIVATE=true and an admin token).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { toHex } from "../../shared/bytes.ts";
import { CONFORMANCE_ENV } from "./conformance.ts";
import { announce, announceQuery, escapeAll, get, num, randomId, scrapeFiles, text, type AnnounceParams } from "./http.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
/** Configuration (TRACKER_ADMIN_TOKEN is a secret on Workers: pass it as one there). */
export const PRIVATE_ENV: Record<string, string> = { ...CONFORMANCE_ENV, TRACKER_PRIVATE: "true" };

export interface PrivateTrackerUnderTest {
  baseUrl: string;
  stop(): Promise<void>;
}

type Json = Record<string, unknown> & { items?: Array<Record<string, unknown>> };

/** One admin API request; `token` null sends no Authorization header. */
export async function adminCall(baseUrl: string, method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${baseUrl}/admin/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const raw = await res.text();
  return { status: res.status, headers: res.headers, raw, json: (raw === "" ? {} : JSON.parse(raw)) as Json };
}

export function runPrivateConformance(name: string, start: () => Promise<PrivateTrackerUnderTest>): void {
  describe(`private tracker: ${name}`, () => {
    let t: PrivateTrackerUnderTest;
    beforeAll(async () => {
      t = await start();
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    }, 30_000);
    const admin = (method: string, path: string, body?: unknown, token?: string | null) => adminCall(t.baseUrl, method, path, body, token);
    let serial = 0;
    const newUser = async () => {
      const res = await admin("POST", "/users", { id: `u${Date.now().toString(36)}-${++serial}` });
      expect(res.status).toBe(201);
      return res.json as { id: string; passkey: string };
    };
    const newTorrent = async (over: Record<string, unknown> = {}) => {
      const hash = randomId();
      expect((await admin("POST", "/torrents", { infoHash: toHex(hash), ...over })).status).toBe(201);
      return hash;
    };
    const peer = (infoHash: Uint8Array, port: number, left: number, extra: Partial<AnnounceParams> = {}): AnnounceParams => ({
      infoHash,
      peerId: randomId(),
      port,
      left,
      ...extra,
    });

    describe("admin API authentication", () => {
      test("no token, a wrong token of the same length, or another scheme: 401 with nothing else", async () => {
        const wrong = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith("x") ? "y" : "x");
        for (const token of [null, wrong, "", `${ADMIN_TOKEN}x`]) {
          const res = await admin("GET", "/users", undefined, token);
          expect(res.status).toBe(401);
          expect(res.raw).toBe("");
          expect(res.headers.get("www-authenticate")).toBe("Bearer");
        }
        const basic = await fetch(`${t.baseUrl}/admin/v1/users`, { headers: { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` } });
        expect(basic.status).toBe(401);
        // Refused before anything else is looked at, writes included.
        expect((await admin("POST", "/users", { id: "never-made" }, wrong)).status).toBe(401);
        expect((await admin("GET", "/users/never-made")).status).toBe(404);
      });

      test("the right token is admitted; an unknown admin path is a JSON 404", async () => {
        expect((await admin("GET", "/users")).status).toBe(200);
        const unknown = await admin("GET", "/no-such-thing");
        expect([unknown.status, unknown.json.error]).toEqual([404, "not-found"]);
      });
    });

    describe("admin API users", () => {
      test("create gives a generated 32-hex passkey; a taken id is 409; get, disable, enable", async () => {
        const user = await newUser();
        expect(user.passkey).toMatch(/^[0-9a-f]{32}$/);
        expect(await admin("GET", `/users/${user.id}`).then((r) => r.json)).toMatchObject({ id: user.id, enabled: true, uploaded: 0, snatches: 0 });
        const again = await admin("POST", "/users", { id: user.id });
        expect([again.status, again.json.error]).toEqual([409, "exists"]);
        const disabled = await admin("PATCH", `/users/${user.id}`, { enabled: false });
        expect([disabled.status, disabled.json.enabled]).toEqual([200, false]);
        expect((await admin("PATCH", `/users/${user.id}`, { enabled: true })).json.enabled).toBe(true);
        expect((await admin("GET", "/users/nobody-here")).status).toBe(404);
        expect((await admin("PATCH", "/users/nobody-here", { enabled: false })).status).toBe(404);
      });

      test("rotate gives a new passkey and the old one stops working", async () => {
        const user = await newUser();
        const hash = await newTorrent();
        const rotated = await admin("POST", `/users/${user.id}/passkey`);
        expect(rotated.status).toBe(200);
        expect(rotated.json.passkey).toMatch(/^[0-9a-f]{32}$/);
        expect(rotated.json.passkey).not.toBe(user.passkey);
        const old = await get(`${t.baseUrl}/${user.passkey}/announce?${announceQuery(peer(hash, 6881, 10))}`);
        expect(text(old.dict["failure reason"])).toContain("unknown or disabled passkey");
        await announce(`${t.baseUrl}/${rotated.json.passkey}`, peer(hash, 6881, 10));
        expect((await admin("POST", "/users/nobody-here/passkey")).status).toBe(404);
      });

      test("lists users by id, a page at a time, with the total; bad paging is a 400 naming the parameter", async () => {
        for (let i = 0; i < 3; i++) await newUser();
        const all = await admin("GET", "/users?limit=200");
        const ids = all.json.items!.map((u) => u.id as string);
        expect(ids).toEqual([...ids].sort());
        const page = await admin("GET", "/users?offset=1&limit=2");
        expect(page.json.items!.map((u) => u.id)).toEqual(ids.slice(1, 3));
        expect([page.json.total, page.json.offset, page.json.limit]).toEqual([all.json.total, 1, 2]);
        for (const [query, named] of [
          ["limit=0", "limit"],
          ["limit=201", "limit"],
          ["offset=-1", "offset"],
          ["limit=many", "limit"],
        ]) {
          const bad = await admin("GET", `/users?${query}`);
          expect([bad.status, bad.json.error]).toEqual([400, "bad-param"]);
          expect(bad.json.message).toContain(named!);
        }
      });

      test("malformed bodies are 4xx naming the problem", async () => {
        const cases: Array<[unknown, number, string]> = [
          ["{", 400, "not valid JSON"],
          ["[1]", 400, "JSON object"],
          ["", 400, "not valid JSON"],
          [{}, 400, '"id"'],
          [{ id: 7 }, 400, '"id"'],
          [{ id: "has space" }, 400, '"id"'],
          [{ id: "x".repeat(65) }, 400, '"id"'],
          [JSON.stringify({ id: "big", pad: "x".repeat(5000) }), 413, "at most 4096 bytes"],
        ];
        for (const [body, status, message] of cases) {
          const res = await admin("POST", "/users", body);
          expect([res.status, res.json.message]).toEqual([status, expect.stringContaining(message)]);
        }
        const user = await newUser();
        const patch = await admin("PATCH", `/users/${user.id}`, { enabled: "no" });
        expect([patch.status, patch.json.message]).toEqual([400, expect.stringContaining('"enabled"')]);
        expect((await admin("GET", "/users/bad id!")).status).toBe(400);
      });
    });

    describe("admin API allowlist", () => {
      test("add, get, freeleech, list, remove; bad info hashes are 400 naming the field", async () => {
        const hash = await newTorrent({ freeleech: true });
        const hex = toHex(hash);
        expect((await admin("GET", `/torrents/${hex.toUpperCase()}`)).json).toMatchObject({ infoHash: hex, allowed: true, freeleech: true, snatches: 0 });
        expect((await admin("PATCH", `/torrents/${hex}`, { freeleech: false })).json.freeleech).toBe(false);
        const listed = await admin("GET", "/torrents?limit=200");
        expect(listed.json.items!.map((x) => x.infoHash)).toContain(hex);
        expect((await admin("DELETE", `/torrents/${hex}`)).json.allowed).toBe(false);
        expect((await admin("DELETE", `/torrents/${hex}`)).status).toBe(404);
        const bad = await admin("POST", "/torrents", { infoHash: "abc" });
        expect([bad.status, bad.json.message]).toEqual([400, expect.stringContaining('"infoHash"')]);
        expect((await admin("POST", "/torrents", { infoHash: hex, freeleech: "yes" })).json.message).toContain('"freeleech"');
        expect((await admin("GET", "/torrents/xyz")).status).toBe(400);
      });
    });

    describe("passkey announces", () => {
      test("a plain /announce is refused: the passkey is required", async () => {
        const res = await get(`${t.baseUrl}/announce?${announceQuery(peer(await newTorrent(), 6881, 10))}`);
        expect(text(res.dict["failure reason"])).toContain("needs your passkey");
      });

      test("an unknown, malformed or disabled passkey gets a failure and changes nothing", async () => {
        const hash = await newTorrent();
        const user = await newUser();
        await admin("PATCH", `/users/${user.id}`, { enabled: false });
        const stats = async () => (await (await fetch(`${t.baseUrl}/stats`)).json()) as Record<string, number>;
        const before = [await stats(), (await admin("GET", `/torrents/${toHex(hash)}`)).json];
        for (const passkey of ["0".repeat(32), "not-a-passkey", user.passkey]) {
          const res = await get(`${t.baseUrl}/${passkey}/announce?${announceQuery(peer(hash, 6881, 0, { uploaded: 999, event: "completed" }))}`);
          expect(res.status).toBe(200);
          expect(text(res.dict["failure reason"])).toBe("unknown or disabled passkey");
          const scrape = await get(`${t.baseUrl}/${passkey}/scrape?info_hash=${escapeAll(hash)}`);
          expect(text(scrape.dict["failure reason"])).toBe("unknown or disabled passkey");
        }
        expect([await stats(), (await admin("GET", `/torrents/${toHex(hash)}`)).json]).toEqual(before);
      });

      test("a torrent off the allowlist is refused even with a good passkey", async () => {
        const user = await newUser();
        const res = await get(`${t.baseUrl}/${user.passkey}/announce?${announceQuery(peer(randomId(), 6881, 10))}`);
        expect(text(res.dict["failure reason"])).toContain("not registered");
      });

      test("accounting: bytes as increases of the reported totals, a restart never negative, one snatch; scrape with the passkey", async () => {
        const hash = await newTorrent();
        const user = await newUser();
        const base = `${t.baseUrl}/${user.passkey}`;
        const me = peer(hash, 6881, 1000, { event: "started" });
        await announce(base, me);
        await announce(base, { ...me, event: undefined, uploaded: 100, downloaded: 400, left: 600 });
        await announce(base, { ...me, event: "completed", uploaded: 250, downloaded: 1000, left: 0 });
        // The client restarts: its totals start again from zero.
        await announce(base, { ...me, event: "started", uploaded: 30, downloaded: 0, left: 0 });
        const seen = (await admin("GET", `/users/${user.id}`)).json;
        expect(seen).toMatchObject({ uploaded: 280, downloaded: 1000, snatches: 1 });
        expect((await admin("GET", `/users/${user.id}/torrents/${toHex(hash)}`)).json).toMatchObject({ uploaded: 280, downloaded: 1000, snatches: 1 });
        expect((await admin("GET", `/torrents/${toHex(hash)}`)).json).toMatchObject({ uploaded: 280, downloaded: 1000, snatches: 1 });
        const files = scrapeFiles((await get(`${base}/scrape?info_hash=${escapeAll(hash)}`)).body);
        expect(files.get(toHex(hash))).toEqual({ complete: 1, incomplete: 0, downloaded: 1 });
        expect(num((await announce(base, { ...me, event: undefined, uploaded: 30, left: 0, numwant: 0 })).dict.complete)).toBe(1);
      });
    });
  });
}
