// The node's UDP transport on loopback. A query to a node that went away brings back an ICMP
// port-unreachable, which the kernel reports on the socket's next send (ECONNREFUSED): that must
// neither throw out of a lookup, a ping or the maintenance timer, nor lose the next packet.
import { afterAll, expect, test } from "bun:test";
import { DhtNode } from "../../peer/dht/node.ts";

const nodes: DhtNode[] = [];
afterAll(() => nodes.forEach((n) => n.close()));

const start = async (hosts: { 4?: string | null; 6?: string | null } | undefined) => {
  const node = await DhtNode.start({ port: 0, hosts, bootstrap: [], loopbackOnly: true, queryTimeoutMs: 300 });
  nodes.push(node);
  return node;
};

for (const [name, hosts] of [
  ["one socket per family", { 4: "127.0.0.1", 6: null }],
  ["the dual-stack socket", undefined],
] as const) {
  test(`${name}: after pings to closed ports, the next ping still goes out and is answered`, async () => {
    const asker = await start(hosts);
    const answerer = await start({ 4: "127.0.0.1", 6: null });
    for (let round = 0; round < 3; round++) {
      // Nobody listens on port 1: each of these draws an ICMP port-unreachable.
      const dead = [asker.ping("127.0.0.1", 1), asker.ping("127.0.0.1", 1)];
      await Bun.sleep(20); // let the ICMP come back before the next send
      expect(await asker.ping("127.0.0.1", answerer.port(4)!)).toEqual(answerer.id);
      expect(await Promise.all(dead)).toEqual([null, null]);
    }
  });
}
