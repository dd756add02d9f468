// The per-torrent DHT schedule against real nodes on loopback: each torrent is looked up and announced
// at once and again every interval, the peers found reach the torrent's callback, lookups run at most
// `maxConcurrent` at a time, and a private torrent (BEP 27) is refused.
import { afterAll, expect, test } from "bun:test";
import type { PeerAddress } from "../../shared/compact.ts";
import { DhtAnnouncer } from "../../peer/dht/announcer.ts";
import { DhtError } from "../../peer/dht/errors.ts";
import type { DhtNode } from "../../peer/dht/node.ts";
import { randomId } from "../../peer/dht/node-id.ts";
import { startLoopbackDht } from "../support/loopback-dht.ts";

const nodes: DhtNode[] = [];
const announcers: DhtAnnouncer[] = [];
afterAll(() => {
  announcers.forEach((a) => a.close());
  nodes.forEach((n) => n.close());
});

test("two announcers find each other's port for one torrent, on start and on the next rounds", async () => {
  await startLoopbackDht(nodes, 6);
  const options = { intervalMs: 300, jitterMs: 50, maxConcurrent: 2 };
  const a = new DhtAnnouncer(nodes[1]!, options);
  const b = new DhtAnnouncer(nodes[4]!, options);
  announcers.push(a, b);
  const infoHash = randomId();
  const seenByA: PeerAddress[][] = [];
  const seenByB: PeerAddress[][] = [];
  a.add(infoHash, { port: 7001, private: false, onPeers: (p) => seenByA.push(p) });
  b.add(infoHash, { port: 7002, private: false, onPeers: (p) => seenByB.push(p) });
  const has = (rounds: PeerAddress[][], port: number) => rounds.some((r) => r.some((p) => p.ip === "127.0.0.1" && p.port === port));
  for (let i = 0; i < 100 && !(has(seenByA, 7002) && has(seenByB, 7001)); i++) await Bun.sleep(50);
  expect(has(seenByA, 7002)).toBe(true);
  expect(has(seenByB, 7001)).toBe(true);
  // later rounds keep coming (the interval is 300 ms here)
  const rounds = seenByA.length;
  for (let i = 0; i < 100 && seenByA.length < rounds + 2; i++) await Bun.sleep(50);
  expect(seenByA.length).toBeGreaterThanOrEqual(rounds + 2);
  // removed: no more callbacks
  a.remove(infoHash);
  const after = seenByA.length;
  await Bun.sleep(800);
  expect(seenByA.length).toBeLessThanOrEqual(after + 1); // at most the lookup already under way
}, 60_000);

test("lookups run at most maxConcurrent at a time; a private torrent is refused", async () => {
  let running = 0;
  let most = 0;
  let done = 0;
  const slowNode = {
    async announce() {
      running++;
      most = Math.max(most, running);
      await Bun.sleep(20);
      running--;
      done++;
      return { peers: [{ ip: "10.0.0.1", port: 1 }], announcedTo: 1 };
    },
    async getPeers() {
      return [];
    },
  };
  const announcer = new DhtAnnouncer(slowNode, { intervalMs: 60_000, jitterMs: 0, maxConcurrent: 3 });
  announcers.push(announcer);
  for (let i = 0; i < 20; i++) announcer.add(randomId(), { port: 1, private: false, onPeers: () => {} });
  for (let i = 0; i < 100 && done < 20; i++) await Bun.sleep(20);
  expect(done).toBe(20);
  expect(most).toBe(3);
  expect(() => announcer.add(randomId(), { port: 1, private: true, onPeers: () => {} })).toThrow(DhtError);
  expect(announcer.size).toBe(20);
});

test("a torrent given another entry while its lookup runs (it went dormant, or was made again): what the lookup found reaches the new entry", async () => {
  if (nodes.length === 0) await startLoopbackDht(nodes, 6);
  const options = { intervalMs: 60_000, jitterMs: 0, maxConcurrent: 2 };
  const first = new DhtAnnouncer(nodes[2]!, options);
  const second = new DhtAnnouncer(nodes[5]!, options);
  announcers.push(first, second);
  const infoHash = randomId();
  const announced = Promise.withResolvers<void>();
  first.add(infoHash, { port: 7003, private: false, onPeers: () => {}, onLookup: () => announced.resolve() });
  await announced.promise;

  const byOld: PeerAddress[][] = [];
  const byNew: PeerAddress[][] = [];
  const looked = Promise.withResolvers<void>();
  second.add(infoHash, { port: 7004, private: false, onPeers: (p) => byOld.push(p), onLookup: () => looked.resolve() });
  // Its first lookup is under way (it starts at once); the torrent's holder changes meanwhile.
  second.add(infoHash, { port: 7004, private: false, onPeers: (p) => byNew.push(p), onLookup: () => looked.resolve() });
  expect(second.size).toBe(1);
  await looked.promise;
  expect(byOld).toEqual([]);
  expect(byNew.flat()).toContainEqual({ ip: "127.0.0.1", port: 7003 });
}, 60_000);
