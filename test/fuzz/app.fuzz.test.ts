// Fuzz: the whole tracker app through app.request(), on the memory store and on the Upstash store over
// a real redis-server, under a few configurations: mutated announce and scrape queries, methods, paths
// and headers. Every response is a proper answer: status below 500, never the "internal" or (redis
// being up) "store-unavailable" error; on /announce and /scrape (other than a refused method) a
// bencoded dictionary that decodes, holding either a `failure reason` or a valid reply (announce:
// integer counts and intervals, compact peers in 6/18-byte records or a peer list; scrape: a `files`
// dictionary of 20-byte hashes to counts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Hono } from "hono";
import { createApp } from "../../edge/app.ts";
import { loadConfig } from "../../edge/config.ts";
import { MemorySwarmStore } from "../../edge/store/memory.ts";
import type { SwarmStore } from "../../edge/store/swarm-store.ts";
import { upstashStoreFromEnv } from "../../edge/store/upstash.ts";
import { decode, decodeDict, type BDict, type BValue } from "../../shared/bencode.ts";
import { utf8 } from "../../shared/bytes.ts";
import { QUERY_TOKENS, queryCorpus } from "./corpus.ts";
import { startRedisStack, type RedisStack } from "../support/redis.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, runFuzz, type FuzzSettings, type Rng } from "./fuzz-kit.ts";

const settings = fuzzSettings(800);

const METHODS = ["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
const PATHS = [
  "/announce",
  "/announce",
  "/announce",
  "/scrape",
  "/scrape",
  "/stats",
  "/health",
  "/",
  "/announce/",
  "//announce",
  "/ANNOUNCE",
  "/announce%00",
  "/%",
  "/%zz",
  "/%ff%fe",
  "/scrape/x",
  "/announce.php",
  "/a/../announce",
  "/..%2fannounce",
  "/%E2%82%AC",
];
const HEADERS: [string, string][] = [
  ["x-forwarded-for", "203.0.113.7"],
  ["x-forwarded-for", "::ffff:10.0.0.1, 10.0.0.2"],
  ["x-forwarded-for", "not-an-ip"],
  ["x-forwarded-for", ""],
  ["x-forwarded-for", "[::1]"],
  ["x-forwarded-for", "999.1.1.1"],
  ["x-forwarded-for", "1.2.3.4:5678"],
  ["host", "tracker.test"],
  ["host", "[::1]:8787"],
  ["host", "xn--bcher-kva.example"],
  ["host", "a b"],
  ["content-type", "application/x-www-form-urlencoded"],
  ["content-length", "5"],
  ["accept-encoding", "gzip"],
  ["user-agent", "\u00ff"],
];

/**
 * A request whose `url` reads as a runtime hands it over, not as `new Request` normalises it: Bun gives
 * "/path?query" when the Host is missing or bad, Deno "http://a b/path" (which does not parse) or an
 * absolute-form target as it came ("http://x?query", no path).
 */
class AsRuntimeGives extends Request {
  constructor(
    private readonly given: string,
    init: RequestInit,
  ) {
    super("http://placeholder.invalid/", init);
  }
  override get url(): string {
    return this.given;
  }
}

const URL_SHAPES = [
  (path: string, query: string) => `/${path.replace(/^\//, "")}?${query}`,
  (path: string, query: string) => `http://a b${path}?${query}`,
  (_path: string, query: string) => `http://tracker.test?${query}`,
  (path: string, query: string) => `http://tracker.test:8787${path}#${query}`,
];

/** The deployments a request can meet: defaults, and every trust and catalogue option switched on. */
function apps(makeStore: () => SwarmStore) {
  const clientIp = (rng: Rng) => () => rng.pick(["127.0.0.1", "::1", "10.1.2.3", "2001:db8::5", "127.0.0.1", "::ffff:10.1.2.3", "not-an-address", undefined]);
  let current: Rng | null = null;
  const ip = () => clientIp(current!)();
  const configs = [
    {},
    { TRACKER_TRUSTED_PROXY_HEADER: "x-forwarded-for", TRACKER_TRUST_IP_PARAM: "true", TRACKER_FULL_SCRAPE: "true", TRACKER_MAX_SCRAPE: "3" },
    { TRACKER_PRIVATE: "true", TRACKER_MAX_NUMWANT: "5", TRACKER_MAX_QUERY_BYTES: "300" },
  ];
  const list = configs.map((env) => createApp({ store: makeStore(), config: loadConfig(env), clientIp: ip, warning: "fuzz" }));
  return (rng: Rng) => {
    current = rng;
    return rng.pick(list);
  };
}

function isInt(v: BValue | undefined): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function checkAnnounce(dict: BDict): void {
  for (const key of ["interval", "min interval", "complete", "incomplete"]) if (!isInt(dict[key])) throw new Error(`announce reply without an integer ${key}`);
  const peers = dict.peers;
  if (peers instanceof Uint8Array) {
    if (peers.length % 6 !== 0) throw new Error(`compact peers of ${peers.length} bytes`);
    const v6 = dict.peers6;
    if (v6 !== undefined && !(v6 instanceof Uint8Array && v6.length % 18 === 0)) throw new Error("peers6 is not 18-byte records");
  } else if (Array.isArray(peers)) {
    for (const p of peers) {
      const peer = p as BDict;
      if (!(peer.ip instanceof Uint8Array) || !isInt(peer.port)) throw new Error("a peer in the list without ip and port");
    }
  } else throw new Error("announce reply without peers");
}

function checkScrape(body: Uint8Array): void {
  const { value } = decodeDict(body);
  const files = value.files;
  if (typeof files !== "object" || files instanceof Uint8Array || Array.isArray(files)) throw new Error("scrape reply without a files dictionary");
  // Keys are raw 20-byte hashes: read them as raw bytes.
  const filesStart = decodeDict(body).entries.find((e) => utf8.decode(e.key) === "files")!;
  const inner = decodeDict(body.subarray(filesStart.start, filesStart.end));
  for (const e of inner.entries) {
    if (e.key.length !== 20) throw new Error(`scrape key of ${e.key.length} bytes`);
    const counts = decode(body.subarray(filesStart.start + e.start, filesStart.start + e.end)) as BDict;
    for (const key of ["complete", "incomplete", "downloaded"]) if (!isInt(counts[key])) throw new Error(`scrape counts without ${key}`);
  }
}

async function checkResponse(res: Response, method: string, path: string): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer());
  const summary = `${method} ${path} -> ${res.status} ${res.headers.get("x-tracker-error") ?? ""} ${utf8.decode(body.subarray(0, 120))}`;
  if (res.status >= 500 && res.status !== 503) throw new Error(`server error: ${summary}`);
  const code = res.headers.get("x-tracker-error");
  if (code === "internal" || code === "store-unavailable") throw new Error(`${code} error: ${summary}`);
  // 503 only for /health without a store; every app here has one.
  if (res.status === 503) throw new Error(`unavailable: ${summary}`);
  if (method === "HEAD" || res.status === 405 || (path !== "/announce" && path !== "/scrape")) return;
  let dict: BDict;
  try {
    dict = decode(body) as BDict;
  } catch (error) {
    throw new Error(`a reply that is not bencode: ${summary} (${String(error)})`);
  }
  if (typeof dict !== "object" || dict instanceof Uint8Array || Array.isArray(dict)) throw new Error(`a reply that is not a dictionary: ${summary}`);
  if (dict["failure reason"] !== undefined) {
    if (!(dict["failure reason"] instanceof Uint8Array) || dict["failure reason"].length === 0) throw new Error(`an empty failure reason: ${summary}`);
    return;
  }
  if (path === "/announce") checkAnnounce(dict);
  else checkScrape(body);
}

/** Sends `settings.cases` mutated requests to the apps `pickApp` chooses from, checking each answer. */
async function fuzzApp(target: string, settings: FuzzSettings, pickApp: (rng: Rng) => Hono): Promise<void> {
  const corpus = queryCorpus().map((q) => utf8.encode(q));
  const queries = new Mutator(corpus, QUERY_TOKENS, 8192);
  // A quarter of the queries are valid ones, so the reply checks see real announces and scrapes.
  const generate = (rng: Rng) => (rng.chance(0.25) ? rng.pick(corpus) : queries.next(rng));
  await runFuzz(target, settings, generate, async (query, rng) => {
    const app = pickApp(rng);
    // Most requests are GETs of /announce or /scrape, so the query reaches the handlers; the rest
    // try every method and path.
    const plain = rng.chance(0.6);
    const method = plain ? "GET" : rng.pick(METHODS);
    const path = plain ? rng.pick(["/announce", "/scrape"]) : rng.chance(0.9) ? rng.pick(PATHS) : `/${Buffer.from(rng.bytes(rng.int(6))).toString("latin1")}`;
    // The query's bytes as URL text: the URL parser percent-encodes what a request line cannot carry.
    const url = `http://tracker.test${path}?${Buffer.from(query).toString("latin1")}`;
    const headers = new Headers();
    for (let k = rng.int(4); k > 0; k--) {
      const [name, value] = rng.pick(HEADERS);
      headers.append(name, value);
    }
    const init = { method, headers, body: method === "GET" || method === "HEAD" || rng.chance(0.5) ? undefined : new Uint8Array(query) };
    let request: Request;
    try {
      request = new Request(url, init);
    } catch {
      return; // not a request any client could send (Request refuses it before the app)
    }
    if (rng.chance(0.2)) {
      // The same request with its URL as a runtime may give it (relative, unparsable, no path): only the
      // status and the error code are checked, as which route answers depends on the shape.
      const given = rng.pick(URL_SHAPES)(path, Buffer.from(query).toString("latin1"));
      const res = await app.fetch(new AsRuntimeGives(given, { ...init, body: undefined }));
      return checkResponse(res, request.method, `(as given) ${given}`);
    }
    const res = await app.request(request);
    await checkResponse(res, request.method, new URL(request.url).pathname);
  });
}

test(
  "app: every request through app.request() gets a proper answer, never a 5xx or an internal error",
  async () => {
    const heapBefore = heapAfterGc();
    await fuzzApp(
      "app",
      settings,
      apps(() => new MemorySwarmStore()),
    );
    expect(heapAfterGc() - heapBefore).toBeLessThan(256 * 1024 * 1024);
  },
  fuzzTimeout(settings, 20),
);

describe.skipIf(!needs(PROGRAMS.redis))("on the Upstash store", () => {
  // Each request is a round trip to redis-server: a quarter of the cases. A store failure here is a
  // bug (a script error on some input): redis is up, so no request may be told "temporarily unavailable".
  const redisSettings = { ...settings, cases: Math.max(1, Math.floor(settings.cases / 4)) };
  let redis: RedisStack;
  beforeAll(async () => {
    redis = await startRedisStack();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });

  test(
    "app: every request gets a proper answer from the Upstash store over a real redis-server",
    async () => {
      const env = { UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token };
      await fuzzApp(
        "app on upstash",
        redisSettings,
        apps(() => upstashStoreFromEnv(env)!),
      );
    },
    fuzzTimeout(redisSettings, 100),
  );
});
