// Our DHT node and libtorrent's (python3-libtorrent) in one small DHT on loopback: each answers the
// other's queries, our lookup finds the peer a libtorrent torrent announced, and libtorrent's lookup
// finds the peer we announced. Our node's transport refuses non-loopback destinations, and libtorrent
// is given only loopback bootstrap nodes.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { toHex } from "../../shared/bytes.ts";
import { DhtNode } from "../../peer/dht/node.ts";
import { randomId } from "../../peer/dht/node-id.ts";
import { startLtDht, type LtDht } from "../support/libtorrent-dht.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { LOOPBACK_NODE } from "../support/loopback-dht.ts";

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** Repeats `probe` until it returns a value, up to a generous bound (a safety net, not a timing check). */
async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, tries = 60, pauseMs = 500): Promise<T | undefined> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await Bun.sleep(pauseMs);
  }
  return undefined;
}

describe.skipIf(!needs(PROGRAMS.libtorrent))("DHT interop with libtorrent", () => {
  test("ping/find_node/get_peers/announce_peer both ways; each finds the peers the other announced", async () => {
    const ours = await DhtNode.start(LOOPBACK_NODE);
    cleanup.push(() => ours.close());
    const dir = mkdtempSync(path.join(tmpdir(), "lt-dht-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // libtorrent never puts a bootstrap router into its routing table: lt1 is told of our node as an
    // ordinary node instead (as a peer's BEP 5 `port` message would): it pings us and keeps us if we
    // answer. lt2 bootstraps from lt1 and can only learn of us through lt1's replies.
    const lt1 = await startLtDht([]);
    cleanup.push(() => lt1.stop());
    lt1.send({ cmd: "add_node", host: "127.0.0.1", port: ours.port(4) });
    const lt2 = await startLtDht([`127.0.0.1:${lt1.port}`]);
    cleanup.push(() => lt2.stop());

    // libtorrent answers our ping and find_node: our lookup fills our table with both of its nodes
    expect(await ours.ping("127.0.0.1", lt1.port)).toHaveLength(20);
    expect(await ours.addNode("127.0.0.1", lt2.port)).toBe(true);
    await ours.bootstrap();
    expect(ours.tableNodes(4).map((n) => n.port)).toEqual(expect.arrayContaining([lt1.port, lt2.port]));

    // libtorrent took our answers: we are in lt1's routing table, and lt2 learnt of us through lt1
    const knowsUs = (lt: LtDht) =>
      eventually(async () => {
        const before = lt.events.length;
        lt.send({ cmd: "live_nodes" });
        const e = await lt.waitFor((e) => e.event === "live-nodes" && lt.events.indexOf(e) >= before, 5000).catch(() => undefined);
        const nodes = (e?.nodes ?? []) as { endpoint: string }[];
        return nodes.some((n) => n.endpoint === `127.0.0.1:${ours.port(4)}`) ? true : undefined;
      }, 30);
    expect(await knowsUs(lt1)).toBe(true);
    expect(await knowsUs(lt2)).toBe(true);

    // a libtorrent torrent announces itself on the DHT (get_peers, then announce_peer with our token):
    // our lookup finds libtorrent's port among the torrent's peers
    const theirs = toHex(randomId());
    lt1.send({ cmd: "add_torrent", ih: theirs, dir });
    await lt1.waitFor((e) => e.event === "torrent-added");
    const found = await eventually(async () => {
      const peers = await ours.getPeers(Buffer.from(theirs, "hex"));
      return peers.some((p) => p.ip === "127.0.0.1" && p.port === lt1.port) ? peers : undefined;
    });
    expect(found).toContainEqual({ ip: "127.0.0.1", port: lt1.port });
    // ...and it was stored with us too: libtorrent's announce_peer carried a token we issued
    expect(ours.stats().storedPeers).toBeGreaterThanOrEqual(1);

    // we announce a port for another torrent; libtorrent's get_peers lookup finds it
    const mine = randomId();
    const announced = await ours.announce(mine, 45678);
    expect(announced.announcedTo).toBeGreaterThanOrEqual(2);
    lt2.send({ cmd: "get_peers", ih: toHex(mine) });
    const reply = await lt2.waitFor((e) => e.event === "peers" && e.ih === toHex(mine));
    expect(reply.peers).toContain("127.0.0.1:45678");
  }, 120_000);
});
