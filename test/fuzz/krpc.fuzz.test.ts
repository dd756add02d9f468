// Fuzz: the KRPC codec (shared/dht). Every packet either decodes into a well-formed message (ids of 20
// bytes, ports in range, echoed byte strings bounded) or throws a KrpcError with a known code; nothing
// else escapes, a decode allocates in proportion to its input, and what decodes encodes and decodes
// again to the same value.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { encode } from "../../shared/bencode.ts";
import { decodeMessage, encodeMessage, KrpcError, MAX_TOKEN_BYTES, MAX_TRANSACTION_ID_BYTES, type KrpcMessage } from "../../shared/dht/index.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { BENCODE_TOKENS } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, Mutator, runFuzz } from "./fuzz-kit.ts";

const settings = fuzzSettings(4000);
const CODES = new Set(["not-bencode", "not-a-dict", "missing-field", "bad-field", "unknown-type"]);

beforeAll(install);
afterAll(uninstall);

const id = (n: number) => new Uint8Array(20).fill(n);
const t = new Uint8Array([0x61, 0x62]);
const seeds: Uint8Array[] = [
  encodeMessage({ type: "query", method: "ping", transactionId: t, id: id(1), version: new Uint8Array([66, 87, 0, 1]) }),
  encodeMessage({ type: "query", method: "find_node", transactionId: t, id: id(1), target: id(2), want: ["n4", "n6"] }),
  encodeMessage({ type: "query", method: "get_peers", transactionId: t, id: id(1), infoHash: id(3), readOnly: true }),
  encodeMessage({
    type: "query",
    method: "announce_peer",
    transactionId: t,
    id: id(1),
    infoHash: id(3),
    port: 6881,
    impliedPort: false,
    token: id(4).subarray(0, 8),
  }),
  encodeMessage({
    type: "query",
    method: "announce_peer",
    transactionId: t,
    id: id(1),
    infoHash: id(3),
    port: 0,
    impliedPort: true,
    token: id(4).subarray(0, 4),
  }),
  encodeMessage({
    type: "response",
    transactionId: t,
    id: id(5),
    nodes: [
      { id: id(6), ip: "127.0.0.1", port: 6881 },
      { id: id(7), ip: "10.0.0.1", port: 1 },
    ],
    nodes6: [{ id: id(8), ip: "::1", port: 6882 }],
    values: [
      { ip: "1.2.3.4", port: 5 },
      { ip: "2001:db8::1", port: 6 },
    ],
    token: id(9).subarray(0, 8),
    ip: { ip: "127.0.0.1", port: 9999 },
  }),
  encodeMessage({ type: "error", transactionId: t, code: 203, message: "Protocol Error" }),
  encode({ t: "zz", y: "q", q: "sample_infohashes", a: { id: id(1), target: id(2) } }),
];
const TOKENS = [
  ...BENCODE_TOKENS,
  ...["1:q", "1:r", "1:e", "2:id20:", "5:nodes", "6:nodes6", "6:values", "5:token", "4:want", "2:n6", "12:implied_port"].map((s) =>
    new TextEncoder().encode(s),
  ),
];

function checkWellFormed(m: KrpcMessage): void {
  if (m.transactionId.length > MAX_TRANSACTION_ID_BYTES) throw new Error("transaction id past its bound");
  if (m.type === "error") return;
  if (m.id.length !== 20) throw new Error(`id of ${m.id.length} bytes`);
  if (m.type === "query") {
    if (m.method === "find_node" && m.target.length !== 20) throw new Error("bad target");
    if ((m.method === "get_peers" || m.method === "announce_peer") && m.infoHash.length !== 20) throw new Error("bad info hash");
    if (m.method === "announce_peer" && (m.token.length > MAX_TOKEN_BYTES || (!m.impliedPort && !(m.port >= 1 && m.port <= 65535))))
      throw new Error("bad announce");
    return;
  }
  for (const n of [...(m.nodes ?? []), ...(m.nodes6 ?? [])]) if (n.id.length !== 20 || !(n.port >= 1 && n.port <= 65535)) throw new Error("bad node");
  for (const p of m.values ?? []) if (!(p.port >= 1 && p.port <= 65535)) throw new Error("bad value");
  if (m.token && m.token.length > MAX_TOKEN_BYTES) throw new Error("token past its bound");
}

test(
  `fuzz: KRPC packets decode to well-formed messages or a KrpcError (${settings.cases} cases)`,
  async () => {
    const mutator = new Mutator(seeds, TOKENS, 4096);
    await runFuzz(
      "krpc",
      settings,
      (rng) => mutator.next(rng),
      (input) => {
        const outcome = metered(() => decodeMessage(input));
        // Values are copies of parts of the packet, plus small fixed overheads per node or value.
        if (outcome.bytes > 4 * input.length + 4096) throw new Error(`decode allocated ${outcome.bytes} bytes for ${input.length}`);
        if (outcome.threw) {
          const error = outcome.error;
          if (!(error instanceof KrpcError) || !CODES.has(error.code)) throw error;
          return;
        }
        const msg = outcome.value!;
        checkWellFormed(msg);
        // implied_port drops the `port` it carried; everything else survives a round trip.
        expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
      },
    );
  },
  fuzzTimeout(settings),
);
