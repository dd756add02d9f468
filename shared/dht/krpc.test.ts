// The KRPC codec against BEP 5's own example messages, both ways, and its typed errors.
import { describe, expect, test } from "bun:test";
import { utf8 } from "../bytes.ts";
import { decodeMessage, decodeNodes, encodeMessage, encodeNodes, KrpcError, type KrpcMessage } from "./index.ts";

const text = (s: string) => utf8.encode(s);
const bep5 = {
  ping: "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
  pong: "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
  error: "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
  findNode: "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
  getPeers: "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
  values: "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
  announce:
    "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
};

function roundTrips(wire: string): KrpcMessage {
  const msg = decodeMessage(text(wire));
  expect(utf8.decode(encodeMessage(msg))).toBe(wire);
  return msg;
}

describe("BEP 5 examples decode to typed messages and encode back byte for byte", () => {
  test("ping and its reply", () => {
    expect(roundTrips(bep5.ping)).toEqual({ type: "query", method: "ping", transactionId: text("aa"), id: text("abcdefghij0123456789") });
    expect(roundTrips(bep5.pong)).toEqual({ type: "response", transactionId: text("aa"), id: text("mnopqrstuvwxyz123456") });
  });
  test("error", () => {
    expect(roundTrips(bep5.error)).toEqual({ type: "error", transactionId: text("aa"), code: 201, message: "A Generic Error Ocurred" });
  });
  test("find_node and get_peers", () => {
    const f = roundTrips(bep5.findNode);
    expect(f.type === "query" && f.method === "find_node" && utf8.decode(f.target)).toBe("mnopqrstuvwxyz123456");
    const g = roundTrips(bep5.getPeers);
    expect(g.type === "query" && g.method === "get_peers" && utf8.decode(g.infoHash)).toBe("mnopqrstuvwxyz123456");
  });
  test("get_peers reply with values", () => {
    const r = roundTrips(bep5.values);
    expect(r).toMatchObject({
      type: "response",
      token: text("aoeusnth"),
      values: [
        { ip: "97.120.106.101", port: 11893 },
        { ip: "105.100.104.116", port: 28269 },
      ],
    });
  });
  test("announce_peer with implied_port: the sender's UDP port counts", () => {
    const a = decodeMessage(text(bep5.announce));
    expect(a).toMatchObject({ type: "query", method: "announce_peer", impliedPort: true, token: text("aoeusnth") });
    const plain = bep5.announce.replace("12:implied_porti1e", "");
    expect(roundTrips(plain)).toMatchObject({ method: "announce_peer", port: 6881, impliedPort: false });
  });
});

test("compact node info: 26 bytes for IPv4, 38 for IPv6, both directions; port 0 entries skipped", () => {
  const id = (n: number) => new Uint8Array(20).fill(n);
  const v4 = [
    { id: id(1), ip: "127.0.0.1", port: 6881 },
    { id: id(2), ip: "10.1.2.3", port: 1 },
  ];
  const v6 = [
    { id: id(3), ip: "::1", port: 65535 },
    { id: id(4), ip: "2001:db8::7", port: 51413 },
  ];
  expect(encodeNodes(v4, 4).length).toBe(52);
  expect(encodeNodes(v6, 6).length).toBe(76);
  expect(decodeNodes(encodeNodes(v4, 4), 4)).toEqual(v4);
  expect(decodeNodes(encodeNodes(v6, 6), 6)).toEqual(v6);
  const zeroPort = encodeNodes(v4, 4);
  zeroPort.fill(0, 24, 26);
  expect(decodeNodes(zeroPort, 4)).toEqual([v4[1]!]);
  expect(() => decodeNodes(new Uint8Array(27), 4)).toThrow(KrpcError);
});

test("a reply with nodes, nodes6, values of both families and BEP 42 ip round-trips", () => {
  const msg: KrpcMessage = {
    type: "response",
    transactionId: new Uint8Array([1, 2]),
    id: new Uint8Array(20).fill(9),
    nodes: [{ id: new Uint8Array(20).fill(1), ip: "1.2.3.4", port: 5 }],
    nodes6: [{ id: new Uint8Array(20).fill(2), ip: "fe80::1", port: 6 }],
    values: [
      { ip: "5.6.7.8", port: 9 },
      { ip: "::1", port: 10 },
    ],
    token: new Uint8Array([7, 7]),
    ip: { ip: "127.0.0.1", port: 4000 },
  };
  expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
});

test("want (BEP 32) keeps n4/n6 and ignores other items; unknown methods are typed `other`", () => {
  const q = decodeMessage(text("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n62:xx2:n4ee1:q9:find_node1:t1:z1:y1:qe"));
  expect(q).toMatchObject({ method: "find_node", want: ["n6", "n4"] });
  const other = decodeMessage(text("d1:ad2:id20:abcdefghij0123456789e1:q3:get1:t1:z1:y1:qe"));
  expect(other).toMatchObject({ method: "other", name: "get" });
});

describe("bad messages throw a KrpcError with a code, and the transaction id of a query when readable", () => {
  const cases: [string, string, boolean][] = [
    ["not-bencode", "d1:t", false],
    ["not-a-dict", "li1ee", false],
    ["missing-field", "d1:y1:qe", false],
    ["unknown-type", "d1:t2:aa1:y1:xe", false],
    ["bad-field", "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", true],
    ["missing-field", "d1:q4:ping1:t2:aa1:y1:qe", true],
    ["bad-field", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", true],
    ["bad-field", "d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", false],
  ];
  for (const [code, wire, hasT] of cases) {
    test(`${code}: ${wire.slice(0, 40)}`, () => {
      let caught: unknown;
      try {
        decodeMessage(text(wire));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(KrpcError);
      expect((caught as KrpcError).code).toBe(code as KrpcError["code"]);
      expect((caught as KrpcError).transactionId !== undefined && (caught as KrpcError).wasQuery).toBe(hasT);
    });
  }
});

test("encoding refuses ids that are not 20 bytes", () => {
  expect(() => encodeMessage({ type: "query", method: "ping", transactionId: text("a"), id: new Uint8Array(19) })).toThrow(KrpcError);
});
