// A small DHT of our own nodes on 127.0.0.1 for the tests: each node bootstraps from the ones started
// before it, so the last ones know the whole network.
import { DhtNode, type DhtNodeOptions } from "../../peer/dht/node.ts";

/** One test node: any port, IPv4 loopback only. Every node shares 127.0.0.1, so the per-address rate limit
 * (meant for strangers) is opened up for the tests' own DHT. */
export const LOOPBACK_NODE: DhtNodeOptions = {
  port: 0,
  hosts: { 4: "127.0.0.1", 6: null },
  bootstrap: [],
  loopbackOnly: true,
  rateLimit: { perSecond: 10_000, burst: 10_000, maxAddresses: 64 },
};

/** Starts `count` more nodes into `nodes` (the caller closes them all, even after a failed start). */
export async function startLoopbackDht(nodes: DhtNode[], count: number, options: Partial<DhtNodeOptions> = {}): Promise<DhtNode[]> {
  for (let i = 0; i < count; i++) {
    const first = nodes.length === 0;
    const node = await DhtNode.start({ ...LOOPBACK_NODE, bootstrap: nodes.map((n) => `127.0.0.1:${n.port(4)}`), ...options });
    nodes.push(node);
    if (!first) await node.bootstrap();
  }
  return nodes;
}
