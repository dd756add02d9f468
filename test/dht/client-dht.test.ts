// The client's DHT parts against real nodes on loopback: router names are never looked up by a
// loopback-only node, a downloader short of peers is looked up again soon, and the nodes of peers' port
// messages are pinged a bounded number at a time, each address once.
import { afterAll, expect, test } from "bun:test";
import { resolveBootstrap } from "../../peer/dht/bootstrap.ts";
import { DhtAnnouncer } from "../../peer/dht/announcer.ts";
import { DueQueue } from "../../peer/dht/due-queue.ts";
import { ClientDht } from "../../peer/client/client-dht.ts";
import { randomId } from "../../peer/dht/node-id.ts";
import { K } from "../../peer/dht/routing-table.ts";
import { machineAddresses } from "../../peer/net/machine-addresses.ts";

const closers: (() => void)[] = [];
afterAll(() => closers.forEach((c) => c()));

/** Waits (3 s at most) until `at` holds the times of four lookups. */
async function fourLookups(at: number[]): Promise<void> {
  for (let i = 0; i < 300 && at.length < 4; i++) await Bun.sleep(10);
  expect(at).toHaveLength(4);
}

/** The gaps between the four lookups double from `retryMs`: retryMs, 2x, 4x at least (timers never fire early). */
function expectDoublingGaps(at: number[], retryMs: number): void {
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  expect(gaps[0]).toBeGreaterThanOrEqual(retryMs - 1);
  expect(gaps[1]).toBeGreaterThanOrEqual(2 * retryMs - 1);
  expect(gaps[2]).toBeGreaterThanOrEqual(4 * retryMs - 1);
}

/** No fifth lookup comes in the next 400 ms: it is an interval (an hour) away. */
async function expectNoFifth(at: number[]): Promise<void> {
  await Bun.sleep(400);
  expect(at).toHaveLength(4);
}

test("a loopback-only node looks no router name up (DNS may leave the machine) and keeps only loopback addresses", async () => {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    return [{ address: "192.0.2.1" }];
  };
  const list = ["router.bittorrent.com:6881", "localhost:7000", "127.0.0.2:7001", "192.0.2.7:7002", "[::1]:7003"];
  expect(await resolveBootstrap(list, { loopbackOnly: true, lookup })).toEqual([
    { ip: "127.0.0.1", port: 7000 },
    { ip: "127.0.0.2", port: 7001 },
    { ip: "::1", port: 7003 },
  ]);
  expect(asked).toEqual([]);
  // Without the restriction the names are resolved, lazily, here and only here.
  expect(await resolveBootstrap(["router.bittorrent.com:6881"], { lookup })).toEqual([{ ip: "192.0.2.1", port: 6881 }]);
  expect(asked).toEqual(["router.bittorrent.com"]);
});

test("a torrent that wants peers and found none is looked up again after retryMs, doubling, and after a full interval once it wants none", async () => {
  const at: number[] = [];
  const node = {
    announce: async () => {
      at.push(Date.now());
      return { peers: [], announcedTo: K };
    },
    getPeers: async () => [],
  };
  const announcer = new DhtAnnouncer(node, { intervalMs: 3_600_000, jitterMs: 0, maxConcurrent: 1, retryMs: 40 });
  closers.push(() => announcer.close());
  const results: number[] = [];
  announcer.add(randomId(), { port: 1, private: false, onPeers: () => {}, onLookup: (r) => results.push(r.peers), wantsPeers: () => at.length < 4 });
  await fourLookups(at);
  expect(results).toEqual([0, 0, 0, 0]);
  expectDoublingGaps(at, 40);
  // It no longer wants peers: the next lookup is an interval (an hour) away.
  await expectNoFifth(at);
});

test("our own address among a lookup's peers (our announce, stored by the nodes that took it) is no peer found: a downloader goes on looking soon", async () => {
  const ours = [...machineAddresses()][0]!;
  let lookups = 0;
  const node = {
    announce: async () => {
      lookups++;
      // What the nodes hold: our own earlier announce, on our port, and a peer on this machine at another port.
      return {
        peers:
          lookups === 1
            ? [{ ip: ours, port: 6881 }]
            : [
                { ip: ours, port: 6881 },
                { ip: ours, port: 6882 },
              ],
        announcedTo: K,
      };
    },
    getPeers: async () => [],
  };
  const announcer = new DhtAnnouncer(node, { intervalMs: 3_600_000, jitterMs: 0, maxConcurrent: 1, retryMs: 20 });
  closers.push(() => announcer.close());
  const found: { ip: string; port: number }[][] = [];
  const results: number[] = [];
  announcer.add(randomId(), {
    port: 6881,
    private: false,
    onPeers: (peers) => found.push(peers),
    onLookup: (r) => results.push(r.peers),
    wantsPeers: () => found.length === 0,
  });
  for (let i = 0; i < 300 && results.length < 2; i++) await Bun.sleep(10);
  // The first lookup found only us: none, and the downloader, still short of peers, looked again.
  expect(results).toEqual([0, 1]);
  expect(found).toEqual([[{ ip: ours, port: 6882 }]]);
});

test("an announce fewer than K nodes took (a small DHT's first minutes) is made again sooner, backing off; one that K nodes took waits the interval", async () => {
  const at: number[] = [];
  let reach = 1;
  const node = {
    announce: async () => {
      at.push(Date.now());
      return { peers: [{ ip: "127.0.0.9", port: 7000 }], announcedTo: reach++ <= 3 ? 3 : K };
    },
    getPeers: async () => [],
  };
  const announcer = new DhtAnnouncer(node, { intervalMs: 3_600_000, jitterMs: 0, maxConcurrent: 1, retryMs: 40 });
  closers.push(() => announcer.close());
  // A seeder: it wants no peers, so only the announce's reach brings the next one closer.
  announcer.add(randomId(), { port: 1, private: false, onPeers: () => {}, wantsPeers: () => false });
  await fourLookups(at);
  expectDoublingGaps(at, 40);
  // The fourth reached K nodes: the next is an interval (an hour) away.
  await expectNoFifth(at);
});

test("port-message nodes: at most 8 pings in flight, an address pinged once however often it is heard", async () => {
  const dht = await ClientDht.start(0, "127.0.0.1", { bootstrap: [], loopbackOnly: true }, () => {});
  closers.push(() => dht.close());
  await dht.joined;
  // Loopback ports where nobody answers: every ping stays outstanding until its timeout.
  for (let port = 40_001; port <= 40_020; port++) dht.nodeHeard("127.0.0.1", port);
  expect(dht.stats().outstanding).toBe(8);
  dht.nodeHeard("127.0.0.1", 40_001);
  dht.nodeHeard("::ffff:127.0.0.1", 40_001);
  expect(dht.stats().outstanding).toBe(8);
  // Off loopback under loopbackOnly: never pinged (the transport would refuse to send).
  expect(() => dht.nodeHeard("192.0.2.1", 6881)).not.toThrow();
});

test("announcer at scale: 50,000 torrents are added and scheduled without sorting them all at every step (a daemon's worth)", async () => {
  let started = 0;
  const pending: (() => void)[] = [];
  const node = {
    announce: () => {
      started++;
      return new Promise<{ peers: []; announcedTo: number }>((resolve) => pending.push(() => resolve({ peers: [], announcedTo: 0 })));
    },
    getPeers: async () => [],
  };
  const announcer = new DhtAnnouncer(node, { intervalMs: 3_600_000, jitterMs: 0, maxConcurrent: 4 });
  closers.push(() => announcer.close());
  const hashes = Array.from({ length: 50_000 }, () => randomId());
  // Sorting every waiting torrent on each add made this quadratic: minutes at this count (this test's
  // safety timeout is what it ran into); a heap makes it n log n.
  for (const h of hashes) announcer.add(h, { port: 1, private: false, onPeers: () => {} });
  expect(announcer.size).toBe(50_000);
  expect(started).toBe(4);
  // Lookups ending let the next ones in, still 4 at a time; removed torrents are skipped.
  for (const h of hashes.slice(4, 1004)) announcer.remove(h);
  for (let round = 0; round < 10; round++) {
    pending.splice(0).forEach((finish) => finish());
    await Bun.sleep(0);
    await Bun.sleep(0);
  }
  expect(started).toBe(44);
  expect(pending).toHaveLength(4);
}, 60_000);

test("the due queue pops in due order, whatever order things were pushed in", () => {
  const queue = new DueQueue<number>();
  const dues = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
  dues.forEach((d, i) => queue.push(d, i));
  const popped: number[] = [];
  for (let e = queue.pop(); e; e = queue.pop()) popped.push(e.due);
  expect(popped).toEqual([...dues].sort((a, b) => a - b));
  expect(queue.size).toBe(0);
});
