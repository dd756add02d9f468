import { describe, expect, test } from "bun:test";
import {
  decodeRequest,
  decodeResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
  UdpCodecError,
  type AnnounceRequest,
  type UdpCodecErrorCode,
} from "./index.ts";

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, "")
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );
const toHexStr = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const filled = (n: number, byte: number) => new Uint8Array(n).fill(byte);

function codeOf(fn: () => unknown): UdpCodecErrorCode {
  try {
    fn();
  } catch (e) {
    if (e instanceof UdpCodecError) return e.code;
    throw e;
  }
  throw new Error("expected a UdpCodecError, got none");
}

const ANNOUNCE: Omit<AnnounceRequest, "action"> = {
  connectionId: 0x0102030405060708n,
  transactionId: 0xdeadbeef,
  infoHash: filled(20, 0xaa),
  peerId: filled(20, 0xbb),
  downloaded: 2 ** 40 + 5,
  left: 0,
  uploaded: 7,
  event: "started",
  ip: 0,
  key: 0x11223344,
  numWant: -1,
  port: 6881,
};

describe("requests, byte for byte as BEP 15 lays them out", () => {
  test("connect: protocol id 0x41727101980, action 0, transaction id", () => {
    const bytes = encodeConnectRequest(0x01020304);
    expect(toHexStr(bytes)).toBe("00000417271019800000000001020304");
    expect(decodeRequest(bytes)).toEqual({ action: "connect", transactionId: 0x01020304 });
  });

  test("announce: 98 bytes, fields at their offsets, event numbers 0 none 1 completed 2 started 3 stopped", () => {
    const bytes = encodeAnnounceRequest(ANNOUNCE);
    expect(bytes.length).toBe(98);
    expect(toHexStr(bytes.subarray(0, 16))).toBe("0102030405060708" + "00000001" + "deadbeef");
    expect(toHexStr(bytes.subarray(56, 64))).toBe("0000010000000005");
    expect(toHexStr(bytes.subarray(80, 98))).toBe("00000002" + "00000000" + "11223344" + "ffffffff" + "1ae1");
    expect(decodeRequest(bytes)).toEqual({ action: "announce", ...ANNOUNCE });
    for (const [n, event] of ["none", "completed", "started", "stopped"].entries()) {
      const b = encodeAnnounceRequest({ ...ANNOUNCE, event: event as AnnounceRequest["event"] });
      expect(new DataView(b.buffer).getUint32(80)).toBe(n);
    }
  });

  test("announce: BEP 41 options after the fixed 98 bytes are ignored", () => {
    const bytes = new Uint8Array(98 + 12);
    bytes.set(encodeAnnounceRequest(ANNOUNCE));
    bytes.set([0x02, 0x09, ...new TextEncoder().encode("/announce")], 98);
    expect(decodeRequest(bytes)).toEqual({ action: "announce", ...ANNOUNCE });
  });

  test("scrape: header then 20 bytes per info hash", () => {
    const hashes = [filled(20, 1), filled(20, 2)];
    const bytes = encodeScrapeRequest({ connectionId: 5n, transactionId: 9, infoHashes: hashes });
    expect(bytes.length).toBe(16 + 40);
    expect(toHexStr(bytes.subarray(0, 16))).toBe("0000000000000005" + "00000002" + "00000009");
    expect(decodeRequest(bytes)).toEqual({ action: "scrape", connectionId: 5n, transactionId: 9, infoHashes: hashes });
  });

  test("decoded ids are copies: reusing the packet buffer does not change them", () => {
    const bytes = encodeAnnounceRequest(ANNOUNCE);
    const req = decodeRequest(bytes) as AnnounceRequest;
    bytes.fill(0);
    expect(req.infoHash).toEqual(filled(20, 0xaa));
  });

  test("malformed requests are typed errors", () => {
    expect(codeOf(() => decodeRequest(new Uint8Array(15)))).toBe("too-short");
    const badMagic = encodeConnectRequest(1);
    badMagic[0] = 1;
    expect(codeOf(() => decodeRequest(badMagic))).toBe("bad-protocol-id");
    expect(codeOf(() => decodeRequest(encodeAnnounceRequest(ANNOUNCE).subarray(0, 97)))).toBe("too-short");
    const badEvent = encodeAnnounceRequest(ANNOUNCE);
    badEvent[83] = 4;
    expect(codeOf(() => decodeRequest(badEvent))).toBe("bad-event");
    const scrape = encodeScrapeRequest({ connectionId: 1n, transactionId: 1, infoHashes: [filled(20, 1)] });
    expect(codeOf(() => decodeRequest(scrape.subarray(0, 16)))).toBe("bad-length");
    expect(codeOf(() => decodeRequest(scrape.subarray(0, 35)))).toBe("bad-length");
    const unknown = encodeConnectRequest(1);
    unknown[11] = 3; // action 3 is an error, which only trackers send
    expect(codeOf(() => decodeRequest(unknown))).toBe("unknown-action");
    expect(codeOf(() => encodeAnnounceRequest({ ...ANNOUNCE, infoHash: filled(19, 0) }))).toBe("bad-length");
  });
});

describe("responses", () => {
  test("connect: action 0, transaction id, connection id", () => {
    const bytes = encodeConnectResponse({ transactionId: 7, connectionId: 0xfedcba9876543210n });
    expect(toHexStr(bytes)).toBe("00000000" + "00000007" + "fedcba9876543210");
    expect(decodeResponse(bytes, 4)).toEqual({ action: "connect", transactionId: 7, connectionId: 0xfedcba9876543210n });
  });

  test("announce over IPv4: interval, leechers, seeders, then 6-byte peers", () => {
    const peers = [hex("7f000001 1ae1"), hex("0a000002 1ae2")];
    const bytes = encodeAnnounceResponse({ transactionId: 3, interval: 1800, leechers: 4, seeders: 2, peers }, 4);
    expect(toHexStr(bytes)).toBe("00000001" + "00000003" + "00000708" + "00000004" + "00000002" + "7f0000011ae1" + "0a0000021ae2");
    expect(decodeResponse(bytes, 4)).toEqual({
      action: "announce",
      transactionId: 3,
      interval: 1800,
      leechers: 4,
      seeders: 2,
      peers: hex("7f0000011ae1 0a0000021ae2"),
    });
  });

  test("announce over IPv6: 18-byte peers; the other family's size is refused both ways", () => {
    const peer6 = hex("00000000000000000000000000000001 1ae1");
    const bytes = encodeAnnounceResponse({ transactionId: 3, interval: 60, leechers: 1, seeders: 0, peers: [peer6] }, 6);
    expect(bytes.length).toBe(20 + 18);
    expect((decodeResponse(bytes, 6) as { peers: Uint8Array }).peers).toEqual(peer6);
    // 18 bytes are also three IPv4 peers; 12 bytes cannot be IPv6 peers.
    expect(codeOf(() => decodeResponse(bytes.subarray(0, 32), 6))).toBe("bad-family");
    expect(codeOf(() => encodeAnnounceResponse({ transactionId: 3, interval: 60, leechers: 1, seeders: 0, peers: [peer6] }, 4))).toBe("bad-family");
    expect(codeOf(() => encodeAnnounceResponse({ transactionId: 3, interval: 60, leechers: 1, seeders: 0, peers: new Uint8Array(7) }, 4))).toBe("bad-family");
  });

  test("scrape: seeders, completed, leechers per torrent in request order", () => {
    const entries = [
      { seeders: 1, completed: 2, leechers: 3 },
      { seeders: 4, completed: 5, leechers: 6 },
    ];
    const bytes = encodeScrapeResponse({ transactionId: 8, entries });
    expect(toHexStr(bytes)).toBe("00000002" + "00000008" + "000000010000000200000003" + "000000040000000500000006");
    expect(decodeResponse(bytes, 4)).toEqual({ action: "scrape", transactionId: 8, entries });
  });

  test("error: action 3, transaction id, message text", () => {
    const bytes = encodeErrorResponse({ transactionId: 9, message: "no" });
    expect(toHexStr(bytes)).toBe("00000003" + "00000009" + "6e6f");
    expect(decodeResponse(bytes, 6)).toEqual({ action: "error", transactionId: 9, message: "no" });
  });

  test("malformed responses are typed errors", () => {
    expect(codeOf(() => decodeResponse(new Uint8Array(7), 4))).toBe("too-short");
    expect(codeOf(() => decodeResponse(encodeConnectResponse({ transactionId: 1, connectionId: 1n }).subarray(0, 15), 4))).toBe("too-short");
    expect(codeOf(() => decodeResponse(hex("00000001 00000001 00000000"), 4))).toBe("too-short");
    expect(codeOf(() => decodeResponse(hex("00000002 00000001 00000000"), 4))).toBe("bad-length");
    expect(codeOf(() => decodeResponse(hex("00000009 00000001"), 4))).toBe("unknown-action");
  });
});
