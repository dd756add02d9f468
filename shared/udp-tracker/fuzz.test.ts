// A bounded, seeded fuzz of the BEP 15 codec: random and mutated packets either decode or throw a
// UdpCodecError, never anything else, and a decoded request re-encodes to the bytes it came from.
import { expect, test } from "bun:test";
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
} from "./index.ts";

/** mulberry32: a small seeded PRNG, so a failure reproduces from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUNDS = 20_000;

function seeds(random: () => number): Uint8Array[] {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  return [
    encodeConnectRequest(1),
    encodeAnnounceRequest({ connectionId: 1n, transactionId: 2, infoHash: bytes(20), peerId: bytes(20), downloaded: 1, left: 2, uploaded: 3, event: "none", ip: 0, key: 4, numWant: 50, port: 6881 }),
    encodeScrapeRequest({ connectionId: 1n, transactionId: 2, infoHashes: [bytes(20), bytes(20)] }),
    encodeConnectResponse({ transactionId: 1, connectionId: 2n }),
    encodeAnnounceResponse({ transactionId: 1, interval: 2, leechers: 3, seeders: 4, peers: bytes(36) }, 4),
    encodeScrapeResponse({ transactionId: 1, entries: [{ seeders: 1, completed: 2, leechers: 3 }] }),
    encodeErrorResponse({ transactionId: 1, message: "bad" }),
  ];
}

function mutate(packet: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  switch (pick(4)) {
    case 0: {
      const out = packet.slice();
      for (let i = pick(4) + 1; i > 0 && out.length > 0; i--) out[pick(out.length)] = pick(256);
      return out;
    }
    case 1:
      return packet.slice(0, pick(packet.length + 1));
    case 2: {
      const out = new Uint8Array(packet.length + pick(40));
      out.set(packet);
      for (let i = packet.length; i < out.length; i++) out[i] = pick(256);
      return out;
    }
    default:
      return Uint8Array.from({ length: pick(200) }, () => pick(256));
  }
}

function survives(fn: () => unknown): "ok" | "typed-error" {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof UdpCodecError) return "typed-error";
    throw e;
  }
}

test(`${ROUNDS} mutated packets: decoders return or throw UdpCodecError, and never read outside the packet`, () => {
  const random = prng(0x5eed);
  const base = seeds(random);
  const seen = { ok: 0, "typed-error": 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const original = mutate(base[round % base.length]!, random);
    // A window into a larger buffer whose bytes around it are poison: reading past the view would
    // decode them (the ids are copies of exactly 20 bytes from inside the window).
    const backing = new Uint8Array(original.length + 64).fill(0xee);
    backing.set(original, 32);
    const packet = backing.subarray(32, 32 + original.length);
    seen[survives(() => {
      const req = decodeRequest(packet);
      // Byte counts are numbers, exact up to 2^53: only those re-encode to the same bytes.
      const exact = req.action === "announce" && [req.downloaded, req.left, req.uploaded].every(Number.isSafeInteger);
      if (req.action === "announce" && exact) expect(encodeAnnounceRequest(req)).toEqual(original.slice(0, 98));
      if (req.action === "scrape") expect(encodeScrapeRequest(req)).toEqual(original);
    })]++;
    seen[survives(() => decodeResponse(packet, 4))]++;
    seen[survives(() => decodeResponse(packet, 6))]++;
  }
  // Both outcomes happen: the fuzz is neither all-garbage nor all-valid.
  expect(seen.ok).toBeGreaterThan(ROUNDS / 10);
  expect(seen["typed-error"]).toBeGreaterThan(ROUNDS / 10);
});
