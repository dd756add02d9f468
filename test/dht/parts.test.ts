// Unit tests of the DHT node's parts: ids and BEP 42, the routing table, tokens, the peer store, the
// rate limiter and the iterative lookup (over an in-memory network of simulated nodes).
import { describe, expect, test } from "bun:test";
import { fromHex, toHex } from "../../shared/bytes.ts";
import type { NodeInfo } from "../../shared/dht/types.ts";
import { iterativeLookup, type LookupReply } from "../../peer/dht/lookup.ts";
import {
  commonPrefixBits,
  compareDistance,
  crc32c,
  generateIdForAddress,
  idMatchesAddress,
  isGlobalAddress,
  randomId,
  randomIdInBucket,
} from "../../peer/dht/node-id.ts";
import { PEER_TTL_MS, PeerStore } from "../../peer/dht/peer-store.ts";
import { RateLimiter } from "../../peer/dht/rate-limit.ts";
import { K, nodeState, QUESTIONABLE_AFTER_MS, RoutingTable } from "../../peer/dht/routing-table.ts";
import { decodeSavedTable, encodeSavedTable } from "../../peer/dht/table-file.ts";
import { ROTATE_MS, TokenManager } from "../../peer/dht/tokens.ts";

const clock = (start = 1_000_000) => {
  const c = { t: start, now: () => c.t };
  return c;
};
const idWithPrefix = (bits: string): Uint8Array => {
  const id = randomId();
  for (let i = 0; i < bits.length; i++) {
    const mask = 1 << (7 - (i & 7));
    id[i >> 3] = bits[i] === "1" ? id[i >> 3]! | mask : id[i >> 3]! & ~mask;
  }
  return id;
};

describe("BEP 42", () => {
  test("CRC32-C check value", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });
  test("the BEP's example ids: prefix from the IP and the random byte", () => {
    const vectors: [string, number, string][] = [
      ["124.31.75.21", 1, "5fbfbf"],
      ["21.75.31.124", 86, "5a3ce9"],
      ["65.23.51.170", 22, "a5d432"],
      ["84.124.73.14", 65, "1b0321"],
      ["43.213.53.83", 90, "e56f6c"],
    ];
    for (const [ip, r, prefix] of vectors) {
      const random = randomId();
      random[19] = r;
      const id = generateIdForAddress(ip, random);
      expect(toHex(id).slice(0, 5)).toBe(prefix.slice(0, 5)); // 21 bits fixed; the rest of byte 2 is random
      expect((id[2]! & 0xf8) === (fromHex(prefix)![2]! & 0xf8)).toBe(true);
      expect(id[19]).toBe(r);
      expect(idMatchesAddress(id, ip)).toBe(true);
      expect(idMatchesAddress(randomId(), ip) && idMatchesAddress(randomId(), ip)).toBe(false);
    }
    const v6 = generateIdForAddress("2001:db8::1");
    expect(idMatchesAddress(v6, "2001:db8::1")).toBe(true);
  });
  test("loopback, private, link-local and unique-local addresses are exempt; public ones are not", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.1.1", "100.64.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1"]) {
      expect(isGlobalAddress(ip)).toBe(false);
    }
    for (const ip of ["8.8.8.8", "124.31.75.21", "2001:db8::1", "172.32.0.1"]) expect(isGlobalAddress(ip)).toBe(true);
  });
});

describe("ids", () => {
  test("XOR distance order and common prefix", () => {
    const target = new Uint8Array(20);
    const near = new Uint8Array(20);
    near[19] = 1;
    const far = new Uint8Array(20);
    far[0] = 0x80;
    expect(compareDistance(target, near, far)).toBe(-1);
    expect(compareDistance(target, far, near)).toBe(1);
    expect(commonPrefixBits(target, far)).toBe(0);
    expect(commonPrefixBits(target, near)).toBe(159);
    expect(commonPrefixBits(target, target)).toBe(160);
    const base = randomId();
    for (const bits of [0, 1, 7, 8, 100, 159]) expect(commonPrefixBits(base, randomIdInBucket(base, bits))).toBe(bits);
  });
});

describe("routing table", () => {
  const own = idWithPrefix("0000");
  const node = (id: Uint8Array, n: number): NodeInfo => ({ id, ip: "10.0.0.1", port: 1000 + n });

  test("only nodes that answered are added; a query from an unknown node is refused", () => {
    const table = new RoutingTable(own);
    expect(table.heard(node(idWithPrefix("1"), 1), false)).toBe("refused");
    expect(table.heard(node(idWithPrefix("1"), 1), true)).toBe("added");
    expect(table.size).toBe(1);
  });

  test("buckets of 8: far buckets fill up and cache the rest; our own bucket splits", () => {
    const table = new RoutingTable(own);
    for (let i = 0; i < 20; i++) table.heard(node(idWithPrefix("1"), i), true); // all share 0 bits with us
    expect(table.all().filter((n) => commonPrefixBits(own, n.id) === 0).length).toBe(K);
    for (let i = 0; i < 20; i++) table.heard(node(idWithPrefix("0001"), 100 + i), true);
    expect(table.bucketCount).toBeGreaterThan(3);
    expect(table.all().filter((n) => commonPrefixBits(own, n.id) === 3).length).toBe(K);
    expect(table.held()).toBeLessThanOrEqual(table.bucketCount * 2 * K);
  });

  test("a node failing twice is bad and its place goes to a cached replacement", () => {
    const c = clock();
    const table = new RoutingTable(own, c.now);
    const first = Array.from({ length: K }, (_, i) => node(idWithPrefix("1"), i));
    for (const n of first) table.heard(n, true);
    // Fill a bucket that cannot split: the far one (bucket 0) once ours has split off.
    table.heard(node(idWithPrefix("01"), 50), true);
    const spare = node(idWithPrefix("1"), 99);
    expect(table.heard(spare, true)).toBe("cached");
    table.failed(first[0]!);
    expect(table.all().some((n) => n.port === first[0]!.port)).toBe(true);
    table.failed(first[0]!);
    expect(table.all().some((n) => n.port === first[0]!.port)).toBe(false);
    expect(table.all().some((n) => n.port === spare.port)).toBe(true);
  });

  test("good → questionable after 15 minutes of silence; a query from a known node keeps it good; bad after failures", () => {
    const c = clock();
    const table = new RoutingTable(own, c.now);
    const n = node(idWithPrefix("1"), 1);
    table.heard(n, true);
    const entry = () => table.all()[0]!;
    expect(nodeState(entry(), c.t)).toBe("good");
    c.t += QUESTIONABLE_AFTER_MS;
    expect(nodeState(entry(), c.t)).toBe("questionable");
    expect(table.questionable(8).length).toBe(1);
    table.heard(n, false);
    expect(nodeState(entry(), c.t)).toBe("good");
    table.failed(n);
    table.failed(n);
    expect(nodeState(entry(), c.t)).toBe("bad");
    expect(table.closest(n.id)).toEqual([]);
  });

  test("a full bucket's bad node is replaced by a newcomer at once", () => {
    const table = new RoutingTable(own);
    const first = Array.from({ length: K }, (_, i) => node(idWithPrefix("1"), i));
    for (const n of first) table.heard(n, true);
    table.heard(node(idWithPrefix("01"), 50), true);
    table.failed(first[3]!);
    table.failed(first[3]!);
    expect(table.heard(node(idWithPrefix("1"), 77), true)).toBe("replaced-bad");
  });

  test("an id seen at a new address takes its place over only once the old address has gone quiet", () => {
    const c = clock();
    const table = new RoutingTable(own, c.now);
    const id = idWithPrefix("1");
    table.heard({ id, ip: "10.0.0.1", port: 1 }, true);
    expect(table.heard({ id, ip: "10.0.0.2", port: 2 }, true)).toBe("refused");
    c.t += QUESTIONABLE_AFTER_MS;
    expect(table.heard({ id, ip: "10.0.0.2", port: 2 }, true)).toBe("added");
    expect(table.all().map((n) => n.port)).toEqual([2]);
  });

  test("closest() gives exactly the nearest good nodes by XOR distance, whatever the target", () => {
    const table = new RoutingTable(own);
    for (let i = 0; i < 400; i++) table.heard(node(randomId(), i), true);
    for (let i = 0; i < 60; i++) table.heard(node(randomIdInBucket(own, 4 + (i % 20)), 1000 + i), true);
    const bad = table.all()[7]!;
    table.failed(bad);
    table.failed(bad);
    const all = table.all(); // a replacement may have taken the bad node's place
    const targets = [own, randomId(), randomIdInBucket(own, 0), randomIdInBucket(own, 6), randomIdInBucket(own, 30), ...all.slice(0, 5).map((n) => n.id)];
    for (const target of targets) {
      const brute = all
        .filter((n) => n !== bad)
        .sort((a, b) => compareDistance(target, a.id, b.id))
        .slice(0, 8);
      expect(table.closest(target, 8).map((n) => n.port)).toEqual(brute.map((n) => n.port));
    }
  });

  test("saved as bytes and read back", () => {
    const nodes = [node(randomId(), 1), { id: randomId(), ip: "::1", port: 7 }];
    const back = decodeSavedTable(encodeSavedTable({ id: own, nodes }));
    expect(back).toEqual({ id: own, nodes });
    expect(() => decodeSavedTable(new Uint8Array([1, 2, 3]))).toThrow("saved routing table");
  });
});

describe("tokens", () => {
  test("valid for the same IP across one rotation, not two; never for another IP", () => {
    const c = clock();
    const tokens = new TokenManager(c.now);
    const token = tokens.issue("10.0.0.1");
    expect(tokens.check(token, "10.0.0.1")).toBe(true);
    expect(tokens.check(token, "10.0.0.2")).toBe(false);
    c.t += ROTATE_MS;
    expect(tokens.check(token, "10.0.0.1")).toBe(true);
    c.t += ROTATE_MS;
    expect(tokens.check(token, "10.0.0.1")).toBe(false);
    const late = tokens.issue("10.0.0.1");
    c.t += 2 * ROTATE_MS;
    expect(tokens.check(late, "10.0.0.1")).toBe(false);
  });
});

describe("peer store", () => {
  const hash = (n: number) => new Uint8Array(20).fill(n);
  test("entries expire after 30 minutes; a re-announce renews", () => {
    const c = clock();
    const store = new PeerStore({ maxTorrents: 10, maxPeersPerTorrent: 10, maxPeers: 100 }, c.now);
    store.add(hash(1), { ip: "10.0.0.1", port: 1 });
    store.add(hash(1), { ip: "10.0.0.2", port: 2 });
    c.t += PEER_TTL_MS - 1;
    store.add(hash(1), { ip: "10.0.0.2", port: 2 });
    expect(store.get(hash(1), 4, 50).length).toBe(2);
    c.t += 1;
    expect(store.get(hash(1), 4, 50)).toEqual([{ ip: "10.0.0.2", port: 2 }]);
    c.t += PEER_TTL_MS;
    store.expire();
    expect(store.peerCount).toBe(0);
    expect(store.torrentCount).toBe(0);
  });
  test("bounded per torrent, in torrents and in total; families kept apart", () => {
    const store = new PeerStore({ maxTorrents: 3, maxPeersPerTorrent: 5, maxPeers: 12 });
    for (let t = 0; t < 10; t++) for (let p = 0; p < 20; p++) store.add(hash(t), { ip: `10.0.${t}.${p}`, port: 1 });
    expect(store.torrentCount).toBe(3);
    expect(store.peerCount).toBeLessThanOrEqual(12);
    expect(store.get(hash(0), 4, 50).length).toBeLessThanOrEqual(5);
    expect(store.get(hash(0), 4, 50).every((p) => p.ip.startsWith("10.0.0."))).toBe(true);
    // a full torrent keeps its newest peers
    expect(store.get(hash(0), 4, 50).map((p) => p.ip)).toContain("10.0.0.19");
    store.add(hash(0), { ip: "::1", port: 9 });
    expect(store.get(hash(0), 6, 50)).toEqual([{ ip: "::1", port: 9 }]);
    expect(store.get(hash(0), 4, 2).length).toBe(2);
  });
});

test("rate limiter: a burst, then the rate; addresses tracked are bounded", () => {
  const c = clock();
  const limiter = new RateLimiter({ perSecond: 10, burst: 5, maxAddresses: 3 }, c.now);
  const allowed = Array.from({ length: 8 }, () => limiter.allow("10.0.0.1")).filter(Boolean).length;
  expect(allowed).toBe(5);
  c.t += 1000;
  expect(Array.from({ length: 20 }, () => limiter.allow("10.0.0.1")).filter(Boolean).length).toBe(5);
  expect(limiter.allow("10.0.0.2")).toBe(true);
  for (let i = 0; i < 100; i++) limiter.allow(`10.1.0.${i}`);
  expect(limiter.tracked).toBe(3);
});

describe("iterative lookup over a simulated network", () => {
  // 500 nodes with seeded ids, each with a real routing table holding whatever of the others fit (a
  // proper Kademlia network); one in ten is dead. A lookup must converge on the 8 closest live nodes.
  let seed = 12345;
  const seededId = () => Uint8Array.from({ length: 20 }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff);
  const nodes: NodeInfo[] = Array.from({ length: 500 }, (_, i) => ({ id: seededId(), ip: "10.9.0.1", port: i + 1 }));
  const dead = (n: NodeInfo) => n.port % 10 === 0;
  const tables = nodes.map((me) => {
    const table = new RoutingTable(me.id);
    for (const other of nodes) if (other !== me) table.heard(other, true);
    return table;
  });
  const closestTo = (target: Uint8Array, list: NodeInfo[], k: number) => [...list].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, k);

  test("finds the 8 closest live nodes, values on the way, with bounded parallelism and queries", async () => {
    const target = seededId();
    const truth = closestTo(
      target,
      nodes.filter((n) => !dead(n)),
      8,
    );
    const holder = truth[0]!;
    let inFlight = 0;
    let maxInFlight = 0;
    const query = async (n: NodeInfo): Promise<LookupReply | null> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      if (dead(n)) return null;
      return {
        id: n.id,
        nodes: tables[n.port - 1]!.closest(target, 8).map(({ id, ip, port }) => ({ id, ip, port })),
        token: new Uint8Array([n.port & 0xff]),
        ...(n.port === holder.port ? { values: [{ ip: "10.0.0.7", port: 7 }] } : {}),
      };
    };
    const seeds = nodes.slice(0, 8);
    const result = await iterativeLookup(target, seeds, query, { alpha: 3, k: 8, maxQueries: 200, maxCandidates: 64, maxValues: 10, slowMs: 1000 });
    expect(result.closest.map((c) => c.node.port)).toEqual(truth.map((n) => n.port));
    expect(result.closest.every((c) => c.token !== undefined)).toBe(true);
    expect(result.values).toEqual([{ ip: "10.0.0.7", port: 7 }]);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(result.queries).toBeLessThanOrEqual(200);
  });

  test("a node that never answers does not hold the lookup: it counts as failed after slowMs", async () => {
    // The silent node is the target itself: the closest of all, asked first and never out of the top 8.
    const silent = nodes[0]!;
    const target = silent.id;
    const query = (n: NodeInfo): Promise<LookupReply | null> => {
      if (n === silent) return new Promise(() => {}); // neither answers nor times out
      return Promise.resolve({ id: n.id, nodes: tables[n.port - 1]!.closest(target, 8).map(({ id, ip, port }) => ({ id, ip, port })) });
    };
    const result = await iterativeLookup(target, nodes.slice(0, 8), query, { alpha: 3, k: 8, maxQueries: 200, maxCandidates: 64, maxValues: 10, slowMs: 50 });
    expect(result.closest.length).toBe(8);
    expect(result.closest.map((c) => c.node.port)).not.toContain(silent.port);
  }, 10_000);

  test("stops at maxQueries however many nodes keep turning up", async () => {
    let asked = 0;
    const endless = async (): Promise<LookupReply> => {
      asked++;
      return { id: randomId(), nodes: Array.from({ length: 8 }, (_, i) => ({ id: randomId(), ip: "10.9.9.9", port: asked * 8 + i })) };
    };
    const result = await iterativeLookup(randomId(), [{ id: randomId(), ip: "10.9.9.9", port: 1 }], endless, {
      alpha: 3,
      k: 8,
      maxQueries: 30,
      maxCandidates: 64,
      maxValues: 10,
      slowMs: 1000,
    });
    expect(result.queries).toBe(30);
    expect(asked).toBe(30);
  });
});
