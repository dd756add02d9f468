// A plain `GET /announce` skips Hono when the app is given `requestIp` (edge/routes/plain-announce.ts).
// The answer must be the one Hono's route gives: two apps over identical stores (seeded sampling, no
// interval spread), one with `requestIp` and one without, get the same requests in the same order,
// and every response must match in status, headers and body bytes; the failure counters and what the
// stores hold must match at the end. Requests: valid announces that build swarms, hand-made failures,
// and mutated queries from the fuzz corpus, under the configurations that change the announce path.
import { describe, expect, test } from "bun:test";
import type { Context, Hono } from "hono";
import { createApp } from "../edge/app.ts";
import { loadConfig } from "../edge/config.ts";
import type { Logger } from "../edge/log.ts";
import { FAILURE_CODES, InstanceCounters } from "../edge/metrics/instance-counters.ts";
import { isPlainAnnounce } from "../edge/routes/plain-announce.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { escapeAll, QUERY_TOKENS, queryCorpus } from "./fuzz/corpus.ts";
import { Mutator, Rng } from "./fuzz/fuzz-kit.ts";

/** The runtime's address for a request, from a test header (absent: the runtime knows none). */
const runtimeAddress = (request: Request) => request.headers.get("x-test-address") ?? undefined;

/** A request whose `url` reads as a runtime gives it (Bun: relative when the Host is missing or bad). */
class AsRuntimeGives extends Request {
  constructor(
    private readonly given: string,
    init?: RequestInit,
  ) {
    super("http://placeholder.invalid/", init);
  }
  override get url(): string {
    return this.given;
  }
}

interface Pair {
  viaRouter: Hono;
  plain: Hono;
  counters: [InstanceCounters, InstanceCounters];
  stores: [MemorySwarmStore, MemorySwarmStore];
  logs: [string[], string[]];
}

function recordingLogger(lines: string[]): Logger {
  return {
    level: "debug",
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
    debug: (m) => lines.push(`debug ${m}`),
  };
}

function seeded(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.u32() / 0x100000000;
}

function pair(env: Record<string, string>): Pair {
  const config = loadConfig({ TRACKER_INTERVAL_SPREAD: "0", ...env });
  const stores: [MemorySwarmStore, MemorySwarmStore] = [new MemorySwarmStore({ random: seeded(7) }), new MemorySwarmStore({ random: seeded(7) })];
  const counters: [InstanceCounters, InstanceCounters] = [new InstanceCounters(), new InstanceCounters()];
  const logs: [string[], string[]] = [[], []];
  const common = { config, warning: env.WARNING, clientIp: (c: Context) => runtimeAddress(c.req.raw) };
  return {
    viaRouter: createApp({ ...common, store: stores[0], counters: counters[0], log: recordingLogger(logs[0]) }),
    plain: createApp({ ...common, store: stores[1], counters: counters[1], log: recordingLogger(logs[1]), requestIp: runtimeAddress }),
    counters,
    stores,
    logs,
  };
}

async function snapshot(res: Response): Promise<{ status: number; headers: [string, string][]; body: number[] }> {
  return { status: res.status, headers: [...res.headers].sort(([a], [b]) => a.localeCompare(b)), body: [...new Uint8Array(await res.arrayBuffer())] };
}

/** Sends the same request to both apps; `make` builds it afresh for each (a Request is read once). */
async function same(p: Pair, make: () => Request): Promise<string> {
  const a = await snapshot(await p.viaRouter.fetch(make()));
  const b = await snapshot(await p.plain.fetch(make()));
  expect(b).toEqual(a);
  return `${a.status} ${a.headers.find(([name]) => name === "x-tracker-error")?.[1] ?? "answered"}`;
}

function expectSameState(p: Pair): void {
  for (const code of FAILURE_CODES) expect([code, p.counters[1].failuresOf(code)]).toEqual([code, p.counters[0].failuresOf(code)]);
  expect(p.stores[1].footprint()).toEqual(p.stores[0].footprint());
  expect(p.logs[1]).toEqual(p.logs[0]);
}

const hashes = Array.from({ length: 4 }, (_, i) => escapeAll(new Uint8Array(20).fill(i + 1)));
const ADDRESSES = ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::5", "::ffff:10.1.2.3", "not-an-address", undefined];

function validQuery(rng: Rng): string {
  const left = rng.chance(0.3) ? 0 : 1000;
  const event = rng.pick(["started", "", "completed", "stopped", "paused"]);
  const compact = rng.pick(["&compact=1", "&compact=0", "&compact=0&no_peer_id=1", ""]);
  return `info_hash=${rng.pick(hashes)}&peer_id=${escapeAll(rng.bytes(20))}&port=${1 + rng.int(65535)}&uploaded=0&downloaded=0&left=${left}&event=${event}&numwant=${rng.int(60)}${compact}`;
}

const CONFIGS: Record<string, string>[] = [
  {},
  { TRACKER_TRUSTED_PROXY_HEADER: "x-forwarded-for", TRACKER_TRUST_IP_PARAM: "true", WARNING: "a warning" },
  { TRACKER_PRIVATE: "true", TRACKER_MAX_NUMWANT: "5", TRACKER_MAX_QUERY_BYTES: "300" },
];

describe("plain GET /announce without Hono", () => {
  for (const env of CONFIGS) {
    test(`answers exactly as the Hono route does (${JSON.stringify(env)})`, async () => {
      const p = pair(env);
      const rng = new Rng(12345);
      const mutator = new Mutator(
        queryCorpus().map((q) => new TextEncoder().encode(q)),
        QUERY_TOKENS,
        4096,
      );
      const headersFor = (address: string | undefined, forwarded?: string) => {
        const h = new Headers();
        if (address !== undefined) h.set("x-test-address", address);
        if (forwarded !== undefined) h.set("x-forwarded-for", forwarded);
        return h;
      };
      const outcomes = new Set<string>();
      for (let i = 0; i < 600; i++) {
        const address = rng.chance(0.9) ? rng.pick(ADDRESSES.slice(0, 5)) : rng.pick(ADDRESSES);
        const forwarded = rng.chance(0.2) ? rng.pick(["203.0.113.7", "::ffff:10.0.0.1, 10.0.0.2", "not-an-ip", ""]) : undefined;
        const roll = rng.int(10);
        const query = roll < 6 ? validQuery(rng) : Buffer.from(mutator.next(rng)).toString("latin1");
        const withIp = rng.chance(0.1) ? `&ip=${rng.pick(["198.51.100.9", "::2", "bogus"])}` : "";
        let url: string;
        try {
          url = new Request(`http://tracker.test/announce?${query}${withIp}`).url;
        } catch {
          continue; // not a URL a client could send
        }
        outcomes.add(await same(p, () => new Request(url, { headers: headersFor(address, forwarded) })));
      }
      // Not a vacuous comparison: real answers and failures of several kinds were compared.
      for (const outcome of ["bad-param", "bad-query-encoding", "no-client-ip", "query-too-long", env.TRACKER_PRIVATE ? "passkey-required" : "answered"]) {
        expect(outcomes).toContain(`200 ${outcome}`);
      }
      expect([...outcomes].every((o) => o.startsWith("200 "))).toBe(true);
      expectSameState(p);
    });
  }

  test("a query over the limit, an empty query and every shape left to Hono answer the same", async () => {
    const p = pair({ TRACKER_MAX_QUERY_BYTES: "300" });
    const h = () => new Headers({ "x-test-address": "10.0.0.1" });
    const valid = validQuery(new Rng(1));
    await same(p, () => new Request(`http://tracker.test/announce?${valid}&pad=${"x".repeat(300)}`, { headers: h() }));
    await same(p, () => new Request("http://tracker.test/announce", { headers: h() }));
    await same(p, () => new Request("http://tracker.test/announce?", { headers: h() }));
    for (const method of ["HEAD", "POST", "PUT"]) await same(p, () => new Request(`http://tracker.test/announce?${valid}`, { method, headers: h() }));
    for (const path of ["/announce/", "/%61nnounce", "/ANNOUNCE", "/abc/announce", "/announce.php"]) {
      await same(p, () => new Request(`http://tracker.test${path}?${valid}`, { headers: h() }));
    }
    // As runtimes give URLs: Bun's relative form (no usable Host), Deno's unparsable and path-less ones.
    for (const given of [
      `/announce?${valid}`,
      `/announce`,
      `http://a b/announce?${valid}`,
      `http://tracker.test?${valid}`,
      `http://tracker.test/announce#${valid}`,
    ]) {
      await same(p, () => new AsRuntimeGives(given, { headers: h() }));
    }
    expectSameState(p);
  });

  test("the plain path reads the address through requestIp alone (Hono's context is never built)", async () => {
    const store = new MemorySwarmStore();
    const app = createApp({
      store,
      config: loadConfig({}),
      clientIp: () => {
        throw new Error("clientIp is Hono's way; the plain path must not take it");
      },
      requestIp: () => "10.9.8.7",
    });
    const res = await app.request(`http://tracker.test/announce?info_hash=${hashes[0]}&peer_id=${hashes[1]}&port=6881&left=0&event=started`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-tracker-error")).toBeNull();
    expect(store.footprint().peers).toBe(1);
  });

  test("with the memory store the answer is a Response in the same call, a failure too (no promise for Bun.serve to await)", async () => {
    const store = new MemorySwarmStore();
    const app = createApp({ store, config: loadConfig({}), clientIp: () => "10.9.8.7", requestIp: () => "10.9.8.7" });
    const ok = app.fetch(new Request(`http://tracker.test/announce?info_hash=${hashes[0]}&peer_id=${hashes[1]}&port=6881&left=0`));
    const refused = app.fetch(new Request(`http://tracker.test/announce?info_hash=${hashes[0]}&port=6881&left=0`));
    expect(ok).toBeInstanceOf(Response);
    expect(refused).toBeInstanceOf(Response);
    expect((ok as Response).headers.get("x-tracker-error")).toBeNull();
    expect((refused as Response).headers.get("x-tracker-error")).toBe("missing-param");
    expect(store.footprint().peers).toBe(1);
  });
});

describe("isPlainAnnounce", () => {
  test("takes exactly /announce, with or without a query, in every URL shape a runtime gives", () => {
    const plain = ["http://h/announce", "http://h/announce?a=1", "http://[::1]:8787/announce?x", "https://h:1/announce?", "/announce", "/announce?a"];
    const not = [
      "http://h/announce/",
      "http://h/announcex",
      "http://h/announce#f",
      "http://h/%61nnounce",
      "http://h/p/announce",
      "http://h//announce",
      "http://h?/announce",
      "http://h#/announce",
      "http://h",
      "/announce/",
      "announce",
      "",
    ];
    for (const url of plain) expect([url, isPlainAnnounce(url)]).toEqual([url, true]);
    for (const url of not) expect([url, isPlainAnnounce(url)]).toEqual([url, false]);
  });
});
