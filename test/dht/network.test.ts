// Ten DHT nodes on loopback (IPv4 and IPv6, ports chosen by the system) form a DHT from one another's
// addresses only: one announces an info hash, the others find it through get_peers; one restarts from
// its saved routing table, with no bootstrap node at all, and is found again. Every node's transport
// refuses non-loopback destinations, so nothing here can reach the public routers.
import { afterAll, expect, test } from "bun:test";
import { DhtNode, type DhtNodeOptions } from "../../peer/dht/node.ts";
import { randomId } from "../../peer/dht/node-id.ts";

const nodes: DhtNode[] = [];
afterAll(() => {
  for (const n of nodes) n.close();
});

const common: Partial<DhtNodeOptions> = {
  hosts: { 4: "127.0.0.1", 6: "::1" },
  loopbackOnly: true,
  // Every node shares 127.0.0.1: the per-address limit is for strangers, not for this test's own DHT.
  rateLimit: { perSecond: 10_000, burst: 10_000, maxAddresses: 64 },
  queryTimeoutMs: 1000,
};

async function startNode(bootstrapFrom: DhtNode[], extra: Partial<DhtNodeOptions> = {}): Promise<DhtNode> {
  const bootstrap = bootstrapFrom.flatMap((n) => [`127.0.0.1:${n.port(4)}`, `[::1]:${n.port(6)}`]);
  const node = await DhtNode.start({ port: 0, bootstrap, ...common, ...extra });
  nodes.push(node);
  return node;
}

test("ten nodes bootstrap from each other, find an announced torrent, and one rejoins from its saved table", async () => {
  const first = await startNode([]);
  for (let i = 1; i < 10; i++) {
    const node = await startNode(nodes.slice(Math.max(0, i - 2), i));
    const result = await node.bootstrap();
    expect(result.source).toBe("routers");
  }
  await first.bootstrap(); // the first node learnt the others from their queries; a lookup fills it up
  for (const n of nodes) {
    expect(n.stats().nodes[4]).toBeGreaterThanOrEqual(5);
    expect(n.stats().nodes[6]).toBeGreaterThanOrEqual(5);
  }

  // announce_peer with a token from get_peers, then found by get_peers from the far end
  const infoHash = randomId();
  const announced = await nodes[2]!.announce(infoHash, 7777);
  expect(announced.announcedTo).toBeGreaterThanOrEqual(3);
  const found = await nodes[9]!.getPeers(infoHash);
  expect(found).toContainEqual({ ip: "127.0.0.1", port: 7777 });
  expect(found).toContainEqual({ ip: "::1", port: 7777 });

  // implied_port: the announcer's DHT port is listed
  const second = randomId();
  await nodes[5]!.announce(second, "implied");
  expect(await nodes[0]!.getPeers(second)).toContainEqual({ ip: "127.0.0.1", port: nodes[5]!.port(4)! });

  // restart node 4 from its saved table on its ports, with no bootstrap routers at all
  const leaving = nodes[4]!;
  const saved = leaving.saveTable();
  const oldId = leaving.id;
  const ports = { 4: leaving.port(4)!, 6: leaving.port(6)! };
  leaving.close();
  const back = await startNode([], { savedTable: saved, bootstrap: [], port: ports });
  expect(back.id).toEqual(oldId);
  expect(await back.bootstrap()).toMatchObject({ source: "saved" });
  expect(back.stats().nodes[4]).toBeGreaterThanOrEqual(5);
  const third = randomId();
  expect((await back.announce(third, 8888)).announcedTo).toBeGreaterThanOrEqual(3);
  expect(await nodes[7]!.getPeers(third)).toContainEqual({ ip: "127.0.0.1", port: 8888 });
  expect(await nodes[1]!.getPeers(third)).toContainEqual({ ip: "::1", port: 8888 });
}, 60_000);
