// Fuzz: the DHT node as a whole. Random and mutated packets, from many source addresses, go into the
// node's packet handler (and a share through a real loopback socket): it must never throw, never send
// a packet above MAX_REPLY_BYTES (no amplification), and keep every table within its cap: routing
// tables, stored peers, outstanding queries and the rate limiter's addresses. Replies to the node's own
// queries (it pings strangers that query it) are forged with the right transaction id, so the routing
// table really fills, and must still stay bounded.
import { afterAll, expect, test } from "bun:test";
import { decodeMessage, encodeMessage, type KrpcMessage } from "../../shared/dht/index.ts";
import { DhtNode } from "../../peer/dht/node.ts";
import { randomId } from "../../peer/dht/node-id.ts";
import { MAX_REPLY_BYTES } from "../../peer/dht/responder.ts";
import type { DhtTransport, Family } from "../../peer/dht/transport.ts";
import { BENCODE_TOKENS } from "./corpus.ts";
import { mutateTree } from "./tree-mutator.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, Rng, runFuzz } from "./fuzz-kit.ts";

const settings = fuzzSettings(6000);
const LIMITS = {
  storeLimits: { maxTorrents: 20, maxPeersPerTorrent: 10, maxPeers: 100 },
  rateLimit: { perSecond: 50, burst: 20, maxAddresses: 256 },
  maxOutstanding: 32,
};
const TABLE_CAP = 2 * 160 * 16; // two families × 160 buckets × (8 nodes + 8 replacements)

interface Sent {
  bytes: Uint8Array;
  ip: string;
  port: number;
  family: Family;
}

function recordingTransport(family: Family, sent: Sent[]): DhtTransport {
  return {
    family,
    port: 6881,
    send(bytes, ip, port) {
      sent.push({ bytes, ip, port, family });
    },
    close() {},
  };
}

const nodesToClose: DhtNode[] = [];
afterAll(() => nodesToClose.forEach((n) => n.close()));

test(
  `fuzz: the node survives hostile packets within its bounds (${settings.cases} cases)`,
  async () => {
    const sent: Sent[] = [];
    // A clock moved 2 ms per case: rate limits and expiry act the same on every machine.
    const clock = { t: 1_000_000 };
    const node = await DhtNode.start({
      port: 0,
      transports: [recordingTransport(4, sent), recordingTransport(6, sent)],
      bootstrap: [],
      queryTimeoutMs: 200,
      now: () => clock.t,
      ...LIMITS,
    });
    nodesToClose.push(node);
    const t = new Uint8Array([1, 2]);
    const id = randomId();
    // A token the node really gave to 10.0.0.1, so mutated announces can reach the peer store.
    node.handlePacket(encodeMessage({ type: "query", method: "get_peers", transactionId: t, id, infoHash: randomId() }), "10.0.0.1", 1000, 4);
    const tokenReply = sent
      .splice(0)
      .map((p) => decodeMessage(p.bytes))
      .find((m) => m.type === "response");
    const token = tokenReply?.type === "response" ? tokenReply.token! : new Uint8Array(8);
    expect(token.length).toBe(8);
    const corpus: Uint8Array[] = [
      encodeMessage({ type: "query", method: "ping", transactionId: t, id }),
      encodeMessage({ type: "query", method: "find_node", transactionId: t, id, target: randomId(), want: ["n4", "n6"] }),
      encodeMessage({ type: "query", method: "get_peers", transactionId: t, id, infoHash: randomId() }),
      encodeMessage({ type: "query", method: "announce_peer", transactionId: t, id, infoHash: randomId(), port: 6881, impliedPort: false, token }),
      encodeMessage({ type: "query", method: "announce_peer", transactionId: t, id, infoHash: randomId(), port: 0, impliedPort: true, token }),
      encodeMessage({ type: "query", method: "other", name: "sample_infohashes", transactionId: t, id }),
      encodeMessage({
        type: "response",
        transactionId: t,
        id,
        nodes: [{ id: randomId(), ip: "10.1.1.1", port: 1 }],
        values: [{ ip: "1.2.3.4", port: 5 }],
        token,
      }),
      encodeMessage({ type: "error", transactionId: t, code: 201, message: "x" }),
    ];
    const mutator = new Mutator(corpus, BENCODE_TOKENS, 2048);
    const heapBefore = heapAfterGc();
    let answers = 0;

    // A third each: byte-mutated packets, tree-mutated ones (well-formed bencode reaching the KRPC checks)
    // and valid ones (reaching the handlers, the store and the rate limits).
    const generate = (rng: Rng): Uint8Array => {
      const roll = rng.int(3);
      if (roll === 0) return mutator.next(rng);
      const valid = rng.pick(corpus);
      return roll === 1 ? mutateTree(valid, rng) : valid;
    };
    await runFuzz("dht-node", settings, generate, (input, rng) => {
      // Sources: often 10.0.0.1 (it holds a valid token), else one of many addresses of both families.
      const family: Family = rng.chance(0.2) ? 6 : 4;
      const ip = family === 6 ? `fd00::${rng.int(2000).toString(16)}` : rng.chance(0.25) ? "10.0.0.1" : `10.0.${rng.int(8)}.${rng.int(250) + 1}`;
      const port = 1000 + rng.int(4);
      clock.t += 2;
      const before = sent.length;
      node.handlePacket(input, ip, port, family);
      answers += sent.length - before;
      // Answer some of the node's own queries (its pings to strangers) with forged replies.
      for (const out of sent.splice(0)) {
        if (out.bytes.length > MAX_REPLY_BYTES) throw new Error(`sent ${out.bytes.length} bytes`);
        let msg: KrpcMessage;
        try {
          msg = decodeMessage(out.bytes);
        } catch (error) {
          throw new Error(`the node sent a packet its own codec cannot read: ${error}`);
        }
        if (msg.type === "query" && rng.chance(0.7)) {
          const reply = encodeMessage({
            type: "response",
            transactionId: msg.transactionId,
            id: forgedId(rng),
            nodes: [{ id: randomId(), ip: "10.2.0.1", port: 1 + rng.int(60000) }],
          });
          node.handlePacket(rng.chance(0.8) ? reply : mutator.mutate(reply, rng), out.ip, out.port, out.family);
        }
      }
      const s = node.stats();
      if (s.held > TABLE_CAP) throw new Error(`routing tables hold ${s.held}`);
      if (s.storedPeers > LIMITS.storeLimits.maxPeers || s.storedTorrents > LIMITS.storeLimits.maxTorrents)
        throw new Error(`store holds ${s.storedPeers}/${s.storedTorrents}`);
      if (s.outstanding > LIMITS.maxOutstanding) throw new Error(`${s.outstanding} queries outstanding`);
      if (s.rateTracked > LIMITS.rateLimit.maxAddresses) throw new Error(`${s.rateTracked} addresses tracked`);
    });
    const s = node.stats();
    // The fuzz reached every part: answers went out, packets were refused, rate limited, and stored.
    expect(answers).toBeGreaterThan(settings.cases / 20);
    expect(s.dropped.malformed).toBeGreaterThan(0);
    expect(s.dropped.rateLimited).toBeGreaterThan(0);
    expect(s.storedPeers).toBeGreaterThan(0);
    expect(s.nodes[4]).toBeGreaterThan(0);
    expect(heapAfterGc() - heapBefore).toBeLessThan(64 * 1024 * 1024);
  },
  fuzzTimeout(settings),
);

/** Ids for forged replies: mostly random, sometimes our own or all-zero. */
function forgedId(rng: Rng): Uint8Array {
  const roll = rng.int(10);
  if (roll === 0) return new Uint8Array(20);
  return rng.bytes(20);
}

test("through a real loopback socket: a flood of mutated packets gets at most the rate limit's burst back, then a ping is answered", async () => {
  // The node's clock stands still during the flood, so the limit allows exactly its burst, however fast
  // or slow this machine is.
  const clock = { t: 1_000_000 };
  const node = await DhtNode.start({ port: 0, hosts: { 4: "127.0.0.1", 6: null }, bootstrap: [], loopbackOnly: true, now: () => clock.t, ...LIMITS });
  nodesToClose.push(node);
  const replies: Uint8Array[] = [];
  const client = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, binaryType: "uint8array", socket: { data: (_s, d) => void replies.push(d) } });
  const rng = new Rng(settings.seed);
  const mutator = new Mutator(
    [encodeMessage({ type: "query", method: "get_peers", transactionId: new Uint8Array([7]), id: randomId(), infoHash: randomId() })],
    BENCODE_TOKENS,
    1400,
  );
  for (let i = 0; i < 2000; i++)
    client.send(
      i % 2
        ? mutator.next(rng)
        : mutator.mutate(encodeMessage({ type: "query", method: "ping", transactionId: new Uint8Array([i & 0xff]), id: randomId() }), rng),
      node.port(4)!,
      "127.0.0.1",
    );
  const pong = encodeMessage({ type: "query", method: "ping", transactionId: new Uint8Array([0xbe, 0xef]), id: randomId() });
  // Wait until the node has read the flood: its counters account for every packet that arrived.
  const seen = () => {
    const d = node.stats().dropped;
    return d.malformed + d.rateLimited + d.unsolicited;
  };
  for (let i = 0; i < 100 && seen() < 1900; i++) await Bun.sleep(20);
  // Answers only: the node also pings an unknown querier back (bounded by half its query table).
  const answers = replies.filter((r) => decodeMessage(r).type !== "query");
  expect(answers.length).toBeGreaterThan(0);
  expect(answers.length).toBeLessThanOrEqual(LIMITS.rateLimit.burst);
  expect(replies.length - answers.length).toBeLessThanOrEqual(LIMITS.maxOutstanding / 2);
  expect(replies.every((r) => r.length <= MAX_REPLY_BYTES)).toBe(true);
  // A second later on its clock the bucket has refilled: a plain ping is answered.
  clock.t += 1000;
  client.send(pong, node.port(4)!, "127.0.0.1");
  const answered = async () => {
    for (let i = 0; i < 100; i++) {
      if (
        replies.some((r) => {
          const m = decodeMessage(r);
          return m.type === "response" && m.transactionId[0] === 0xbe && m.transactionId[1] === 0xef;
        })
      )
        return true;
      await Bun.sleep(20);
    }
    return false;
  };
  expect(await answered()).toBe(true);
  client.close();
}, 30_000);
