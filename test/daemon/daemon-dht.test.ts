// The daemon's DHT against a small DHT of our nodes on loopback: the routing table goes into the state
// store once joined, and a client started later on the same state rejoins from the saved nodes alone (its
// bootstrap is a dead port); the status names the state, nodes, buckets and lookups, and the daemon's
// stats carry it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "../../peer/client/client.ts";
import { DaemonDht, DHT_TABLE_KEY } from "../../peer/daemon/daemon-dht.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import { StateStore } from "../../peer/daemon/state-store.ts";
import type { DhtNode } from "../../peer/dht/node.ts";
import { startLoopbackDht } from "../support/loopback-dht.ts";

const dir = mkdtempSync(path.join(tmpdir(), "daemon-dht-"));
const nodes: DhtNode[] = [];
const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) await c.stop();
  nodes.forEach((n) => n.close());
  rmSync(dir, { recursive: true, force: true });
});

async function daemonDht(store: StateStore, bootstrap: string[]) {
  const client = new Client({ port: 0, bind: "127.0.0.1" });
  clients.push(client);
  client.start();
  const lines: string[] = [];
  const dht = (await DaemonDht.start(client, store, { bootstrap, loopbackOnly: true }, (l) => lines.push(l)))!;
  return { client, dht, joined: await client.dht!.joined, lines };
}

beforeAll(async () => {
  await startLoopbackDht(nodes, 5, { rateLimit: undefined });
});

test("the table is kept in the state store; the next start rejoins from it with no router, and the status says so", async () => {
  const store = StateStore.open(path.join(dir, "state"));
  const first = await daemonDht(store, [`127.0.0.1:${nodes[0]!.port(4)}`]);
  expect(first.joined).toMatchObject({ source: "routers" });
  expect(first.joined.nodes).toBeGreaterThanOrEqual(3);
  expect(store.getBlob(DHT_TABLE_KEY)).not.toBeNull();
  expect(first.dht.status()).toMatchObject({ state: "joined", port: first.client.dht!.port, buckets: { ipv4: expect.any(Number) } });
  expect(first.dht.status()!.nodes.ipv4).toBe(first.joined.nodes);
  first.dht.close();
  await first.client.stop();
  store.close();

  const again = StateStore.open(path.join(dir, "state"));
  const second = await daemonDht(again, ["127.0.0.1:1"]);
  expect(second.joined).toMatchObject({ source: "saved" });
  expect(second.joined.nodes).toBeGreaterThanOrEqual(3);
  expect(second.lines).toContain(`DHT: ${second.joined.nodes} nodes from the saved table`);
  second.dht.close();
  again.close();
});

test("the daemon's stats carry the DHT's status once it runs, and null without it", async () => {
  const daemon = Daemon.open({ stateDir: path.join(dir, "service-state"), downloadDir: path.join(dir, "dl"), port: 0, bind: "127.0.0.1", log: () => {} });
  try {
    expect(daemon.stats().dht ?? null).toBeNull();
    await daemon.startDht({ bootstrap: [`127.0.0.1:${nodes[2]!.port(4)}`], loopbackOnly: true });
    let status = daemon.stats().dht;
    for (let i = 0; i < 600 && status?.state === "joining"; i++) {
      await Bun.sleep(50);
      status = daemon.stats().dht;
    }
    expect(status).toMatchObject({ state: "joined", port: daemon.port, nodes: { ipv6: 0 }, buckets: { ipv6: 0 }, lookups: 0, torrents: 0, storedPeers: 0 });
    expect(status!.nodes.ipv4).toBeGreaterThanOrEqual(3);
    expect(status!.buckets.ipv4).toBeGreaterThanOrEqual(1);
  } finally {
    await daemon.close();
  }
});
