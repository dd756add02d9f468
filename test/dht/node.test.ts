// The node's rules, one by one, with packets handed straight to its handler and its sends recorded (no
// sockets, except where the socket is the point): replies only to our own queries, tokens, bounded
// answers, unknown methods, BEP 42, read-only nodes, the loopback guard and the dual-stack port.
import { afterAll, describe, expect, test } from "bun:test";
import { decodeMessage, encodeMessage, type KrpcMessage, type KrpcResponse } from "../../shared/dht/index.ts";
import { DhtError } from "../../peer/dht/errors.ts";
import { DhtNode, type DhtNodeOptions } from "../../peer/dht/node.ts";
import { generateIdForAddress, idMatchesAddress, randomId } from "../../peer/dht/node-id.ts";
import { MAX_REPLY_BYTES, MAX_VALUES } from "../../peer/dht/responder.ts";
import { openUdpTransport, type DhtTransport, type Family } from "../../peer/dht/transport.ts";

interface Sent {
  message: KrpcMessage;
  size: number;
  ip: string;
  port: number;
}

const opened: DhtNode[] = [];
afterAll(() => opened.forEach((n) => n.close()));

async function recordedNode(extra: Partial<DhtNodeOptions> = {}) {
  const sent: Sent[] = [];
  const transport = (family: Family): DhtTransport => ({
    family,
    port: 6881,
    send: (bytes, ip, port) => void sent.push({ message: decodeMessage(bytes), size: bytes.length, ip, port }),
    close() {},
  });
  const node = await DhtNode.start({ port: 0, transports: [transport(4), transport(6)], bootstrap: [], queryTimeoutMs: 300, ...extra });
  opened.push(node);
  const query = (message: KrpcMessage, ip: string, port = 1000) => {
    const from = sent.length;
    node.handlePacket(encodeMessage(message), ip, port, ip.includes(":") ? 6 : 4);
    return sent.slice(from);
  };
  return { node, sent, query };
}

const t = (n: number) => new Uint8Array([n]);

describe("replies", () => {
  test("a reply is taken only for a transaction id we sent, from the address we sent it to", async () => {
    const { node, sent } = await recordedNode();
    const pinged = node.ping("10.0.0.5", 7000);
    const ping = sent[0]!;
    expect(ping).toMatchObject({ ip: "10.0.0.5", port: 7000, message: { type: "query", method: "ping" } });
    const reply = (transactionId: Uint8Array): KrpcResponse => ({ type: "response", transactionId, id: randomId() });
    // never sent: a made-up transaction id
    node.handlePacket(encodeMessage(reply(new Uint8Array([0xde, 0xad]))), "10.0.0.5", 7000, 4);
    // the right id from another port, and from another host
    node.handlePacket(encodeMessage(reply(ping.message.transactionId)), "10.0.0.5", 7001, 4);
    node.handlePacket(encodeMessage(reply(ping.message.transactionId)), "10.0.0.6", 7000, 4);
    expect(node.stats().dropped.unsolicited).toBe(3);
    expect(node.stats().nodes[4]).toBe(0);
    const good = reply(ping.message.transactionId);
    node.handlePacket(encodeMessage(good), "10.0.0.5", 7000, 4);
    expect(await pinged).toEqual(good.id);
    expect(node.tableNodes(4)).toEqual([{ id: good.id, ip: "10.0.0.5", port: 7000 }]);
    // the same reply again: its query is settled, so it is unsolicited now
    node.handlePacket(encodeMessage(good), "10.0.0.5", 7000, 4);
    expect(node.stats().dropped.unsolicited).toBe(4);
  });

  test("an unanswered query times out and leaves the table alone", async () => {
    const { node } = await recordedNode();
    expect(await node.ping("10.0.0.5", 7000)).toBeNull();
    expect(node.stats()).toMatchObject({ outstanding: 0, nodes: { 4: 0 } });
  });
});

describe("tokens", () => {
  test("announce_peer needs the token get_peers gave to the same IP", async () => {
    const { node, query } = await recordedNode();
    const infoHash = randomId();
    const [answer] = query({ type: "query", method: "get_peers", transactionId: t(1), id: randomId(), infoHash }, "10.0.0.1");
    const token = (answer!.message as KrpcResponse).token!;
    const announce = (tok: Uint8Array, from: string) =>
      query({ type: "query", method: "announce_peer", transactionId: t(2), id: randomId(), infoHash, port: 6000, impliedPort: false, token: tok }, from)[0]!
        .message;
    expect(announce(token, "10.0.0.2")).toMatchObject({ type: "error", code: 203 });
    expect(announce(new Uint8Array(8), "10.0.0.1")).toMatchObject({ type: "error", code: 203 });
    expect(node.stats().storedPeers).toBe(0);
    expect(announce(token, "10.0.0.1")).toMatchObject({ type: "response" });
    const [found] = query({ type: "query", method: "get_peers", transactionId: t(3), id: randomId(), infoHash }, "10.0.0.9");
    expect((found!.message as KrpcResponse).values).toEqual([{ ip: "10.0.0.1", port: 6000 }]);
  });
});

test("a get_peers answer stays within MAX_VALUES peers and MAX_REPLY_BYTES however many are stored", async () => {
  const { query } = await recordedNode({ rateLimit: { perSecond: 1e6, burst: 1e6, maxAddresses: 1000 }, replyBytesPerSecond: 1e9 });
  const infoHash = randomId();
  for (let i = 0; i < 150; i++) {
    const ip = `2001:db8::${(i + 1).toString(16)}`;
    const [a] = query({ type: "query", method: "get_peers", transactionId: t(1), id: randomId(), infoHash }, ip);
    query(
      {
        type: "query",
        method: "announce_peer",
        transactionId: t(2),
        id: randomId(),
        infoHash,
        port: 1,
        impliedPort: true,
        token: (a!.message as KrpcResponse).token!,
      },
      ip,
    );
  }
  const [reply] = query(
    { type: "query", method: "get_peers", transactionId: new Uint8Array(16), id: randomId(), infoHash, want: ["n4", "n6"] },
    "2001:db8::ffff",
  );
  expect((reply!.message as KrpcResponse).values).toHaveLength(MAX_VALUES);
  expect(reply!.size).toBeLessThanOrEqual(MAX_REPLY_BYTES);
});

test("an unknown method gets error 204, a half-read query 203, garbage nothing", async () => {
  const { node, query, sent } = await recordedNode();
  expect(query({ type: "query", method: "other", name: "vote", transactionId: t(1), id: randomId() }, "10.0.0.1")[0]!.message).toMatchObject({
    type: "error",
    code: 204,
  });
  const before = sent.length;
  node.handlePacket(new TextEncoder().encode("d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe"), "10.0.0.1", 1000, 4);
  expect(sent[before]!.message).toMatchObject({ type: "error", code: 203, transactionId: new TextEncoder().encode("xy") });
  node.handlePacket(new Uint8Array([1, 2, 3]), "10.0.0.1", 1000, 4);
  expect(sent.length).toBe(before + 1);
});

describe("who gets into the routing table", () => {
  test("a stranger that queries us is pinged, and enters only by answering; read-only nodes are not pinged", async () => {
    const { node, query, sent } = await recordedNode();
    const id = randomId();
    const out = query({ type: "query", method: "ping", transactionId: t(1), id }, "10.0.0.7", 4000);
    expect(out.map((s) => s.message.type)).toEqual(["response", "query"]);
    expect(node.stats().nodes[4]).toBe(0);
    node.handlePacket(encodeMessage({ type: "response", transactionId: out[1]!.message.transactionId, id }), "10.0.0.7", 4000, 4);
    await Bun.sleep(0);
    expect(node.tableNodes(4)).toEqual([{ id, ip: "10.0.0.7", port: 4000 }]);
    const before = sent.length;
    query({ type: "query", method: "ping", transactionId: t(2), id: randomId(), readOnly: true }, "10.0.0.8");
    expect(sent.slice(before).map((s) => s.message.type)).toEqual(["response"]);
  });

  test("BEP 42: on a global address only an id made for that address is kept; private addresses are exempt", async () => {
    const { node, query, sent } = await recordedNode();
    const answerPing = (ip: string, id: Uint8Array) => {
      const out = query({ type: "query", method: "ping", transactionId: t(1), id }, ip, 5000);
      const ping = out.find((s) => s.message.type === "query");
      if (ping) node.handlePacket(encodeMessage({ type: "response", transactionId: ping.message.transactionId, id }), ip, 5000, 4);
      return ping !== undefined;
    };
    expect(answerPing("203.0.113.9", randomId())).toBe(false); // a wrong id is not even pinged
    expect(answerPing("203.0.113.10", generateIdForAddress("203.0.113.10"))).toBe(true);
    expect(answerPing("192.168.1.20", randomId())).toBe(true);
    await Bun.sleep(0);
    expect(
      node
        .tableNodes(4)
        .map((n) => n.ip)
        .sort(),
    ).toEqual(["192.168.1.20", "203.0.113.10"]);
    void sent;
  });
});

test("the loopback-only transport throws before sending anywhere else", async () => {
  const transport = await openUdpTransport({ family: 4, host: "127.0.0.1", port: 0, loopbackOnly: true }, () => {});
  try {
    expect(() => transport.send(new Uint8Array(1), "67.215.246.10", 6881)).toThrow(DhtError);
    expect(() => transport.send(new Uint8Array(1), "10.0.0.1", 6881)).toThrow("loopback-only");
  } finally {
    transport.close();
  }
});

test("by default both families share one dual-stack port, and each is answered on it", async () => {
  const node = await DhtNode.start({ port: 0, bootstrap: [], loopbackOnly: true });
  opened.push(node);
  expect(node.port(6)).toBe(node.port(4)!);
  const client = await DhtNode.start({ port: 0, hosts: { 4: "127.0.0.1", 6: "::1" }, bootstrap: [], loopbackOnly: true });
  opened.push(client);
  expect(await client.ping("127.0.0.1", node.port(4)!)).toEqual(node.id);
  expect(await client.ping("::1", node.port(6)!)).toEqual(node.id);
  // and its replies came back to each family's socket: both families' tables now hold the node
  expect(client.stats().nodes).toEqual({ 4: 1, 6: 1 });
});

describe("our external address (BEP 42)", () => {
  test("learnt from the `ip` of replies once five hosts agree; one host voting many times does not count", async () => {
    const { node, sent } = await recordedNode();
    const answer = async (host: string, seenAs: string) => {
      const pinged = node.ping(host, 6881);
      const q = sent[sent.length - 1]!;
      node.handlePacket(
        encodeMessage({ type: "response", transactionId: q.message.transactionId, id: randomId(), ip: { ip: seenAs, port: 6881 } }),
        host,
        6881,
        4,
      );
      await pinged;
    };
    for (let i = 0; i < 10; i++) await answer("10.0.0.1", "198.51.100.7");
    expect(node.externalIp()).toBeUndefined();
    for (let i = 2; i <= 5; i++) await answer(`10.0.0.${i}`, "198.51.100.7");
    expect(node.externalIp()).toBe("198.51.100.7");
  });

  test("a saved id is kept unless it does not fit the known global address; then a fitting one is made", async () => {
    const first = await recordedNode();
    const saved = first.node.saveTable();
    const kept = await recordedNode({ savedTable: saved, externalIp: "127.0.0.1" });
    expect(kept.node.id).toEqual(first.node.id);
    const moved = await recordedNode({ savedTable: saved, externalIp: "198.51.100.7" });
    expect(moved.node.id).not.toEqual(first.node.id);
    expect(idMatchesAddress(moved.node.id, "198.51.100.7")).toBe(true);
    const again = await recordedNode({ savedTable: moved.node.saveTable(), externalIp: "198.51.100.7" });
    expect(again.node.id).toEqual(moved.node.id);
  });
});

test("maintenance: nodes silent for 15 minutes turn questionable and are pinged back to good", async () => {
  const clock = { t: 1_000_000 };
  const a = await DhtNode.start({ port: 0, hosts: { 4: "127.0.0.1", 6: null }, bootstrap: [], loopbackOnly: true, now: () => clock.t, maintenanceMs: 50 });
  const b = await DhtNode.start({ port: 0, hosts: { 4: "127.0.0.1", 6: null }, bootstrap: [], loopbackOnly: true });
  opened.push(a, b);
  expect(await a.addNode("127.0.0.1", b.port(4)!)).toBe(true);
  expect(a.stats().questionable).toBe(0);
  clock.t += 15 * 60_000;
  expect(a.stats().questionable).toBe(1);
  for (let i = 0; i < 500 && a.stats().questionable > 0; i++) await Bun.sleep(20);
  expect(a.stats()).toMatchObject({ questionable: 0, nodes: { 4: 1 } });
});

test("bootstrap routers stay out of the routing table, unless they are all the DHT has", async () => {
  const start = (bootstrap: string[] = []) =>
    DhtNode.start({
      port: 0,
      hosts: { 4: "127.0.0.1", 6: null },
      bootstrap,
      loopbackOnly: true,
      rateLimit: { perSecond: 1e4, burst: 1e4, maxAddresses: 64 },
      replyBytesPerSecond: 1e9,
    });
  const router = await start();
  const nodes = [await start(), await start(), await start()];
  opened.push(router, ...nodes);
  for (const n of nodes) expect(await router.addNode("127.0.0.1", n.port(4)!)).toBe(true);
  const client = await start([`127.0.0.1:${router.port(4)}`]);
  opened.push(client);
  expect(await client.bootstrap()).toMatchObject({ source: "routers" });
  const ports = client.tableNodes(4).map((n) => n.port);
  expect(ports).toEqual(expect.arrayContaining(nodes.map((n) => n.port(4)!)));
  expect(ports).not.toContain(router.port(4)!);
  // a DHT of one: its router is all there is, so it is kept
  const lonely = await start();
  const second = await start([`127.0.0.1:${lonely.port(4)}`]);
  opened.push(lonely, second);
  expect(await second.bootstrap()).toMatchObject({ source: "routers", nodes: 1 });
});

test("answers to all askers together stay within the reply budget (bytes per second)", async () => {
  const clock = { t: 1_000_000 };
  const { node, query, sent } = await recordedNode({ now: () => clock.t, replyBytesPerSecond: 4000 });
  // 200 get_peers from 200 addresses, each well within its own rate limit, in the same instant.
  for (let i = 0; i < 200; i++)
    query({ type: "query", method: "get_peers", transactionId: t(i), id: randomId(), infoHash: randomId(), want: ["n4", "n6"] }, `10.1.${i >> 8}.${i & 0xff}`);
  const answered = sent.filter((s) => s.message.type !== "query");
  expect(answered.reduce((n, s) => n + s.size, 0)).toBeLessThanOrEqual(4000);
  expect(node.stats().dropped.overBudget).toBe(200 - answered.length);
  // a second later the budget has refilled
  clock.t += 1000;
  expect(query({ type: "query", method: "ping", transactionId: t(1), id: randomId() }, "10.2.0.1")[0]!.message.type).toBe("response");
});

describe("no ping storms", () => {
  test("a query carrying our own id (ourselves, or someone posing as us) is answered but never pinged back", async () => {
    const { node, query } = await recordedNode();
    const out = query({ type: "query", method: "ping", transactionId: t(1), id: node.id }, "10.0.0.1", 6881);
    expect(out.map((s) => s.message.type)).toEqual(["response"]);
  });

  test("a node sent its own address (as a lookup result or a `port` message would) does not ping itself forever", async () => {
    // A transport that delivers to its own node, counting every packet.
    let packets = 0;
    let node: DhtNode | undefined;
    const loop: DhtTransport = {
      family: 4,
      port: 7000,
      send(bytes) {
        packets++;
        setTimeout(() => node?.handlePacket(bytes, "127.0.0.1", 7000, 4), 0);
      },
      close() {},
    };
    node = await DhtNode.start({
      port: 0,
      transports: [loop],
      bootstrap: [],
      rateLimit: { perSecond: 1e6, burst: 1e6, maxAddresses: 8 },
      replyBytesPerSecond: 1e9,
    });
    opened.push(node);
    await node.addNode("127.0.0.1", 7000);
    await Bun.sleep(300);
    expect(packets).toBeLessThan(10);
    expect(node.stats().nodes[4]).toBe(0);
  });
});

test("BEP 32: bootstrapped over IPv4 alone, a dual-stack node fills its IPv6 table from the nodes6 it asked for", async () => {
  const start = (bootstrap: string[] = []) =>
    DhtNode.start({
      port: 0,
      hosts: { 4: "127.0.0.1", 6: "::1" },
      bootstrap,
      loopbackOnly: true,
      rateLimit: { perSecond: 1e4, burst: 1e4, maxAddresses: 64 },
      replyBytesPerSecond: 1e9,
    });
  const first = await start();
  opened.push(first);
  const others = [];
  for (let i = 0; i < 4; i++) {
    const node = await start([`127.0.0.1:${first.port(4)}`, `[::1]:${first.port(6)}`]);
    opened.push(node);
    await node.bootstrap();
    others.push(node);
  }
  const client = await start([`127.0.0.1:${first.port(4)}`]);
  opened.push(client);
  await client.bootstrap();
  expect(client.stats().nodes[4]).toBeGreaterThanOrEqual(3);
  for (let i = 0; i < 500 && client.stats().nodes[6] < 3; i++) await Bun.sleep(20);
  expect(client.stats().nodes[6]).toBeGreaterThanOrEqual(3);
  expect(client.tableNodes(6).every((n) => n.ip === "::1")).toBe(true);
});
