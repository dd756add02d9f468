// The MSE/PE codec on its own: RC4 against published vectors, the DH exchange, and the two handshake
// state machines talking to each other through every chunking, both methods, and each typed failure.
import { describe, expect, test } from "bun:test";
import { toHex } from "../../shared/bytes.ts";
import { bigIntToBytes, DH_PRIME, DhKeyPair } from "../../shared/mse/dh.ts";
import {
  acceptedMethods,
  acceptsIncoming,
  classifyIncoming,
  FirstBytes,
  MseError,
  MseInitiator,
  MseReceiver,
  mseRc4,
  nextAttempt,
  offeredMethods,
  Rc4,
  SkeyTable,
  type MseMethod,
  type MseResult,
} from "../../shared/mse/index.ts";
import { Rng } from "../fuzz/fuzz-kit.ts";
import { errorCode } from "../support/error-code.ts";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const seeded = (seed: number) => {
  const rng = new Rng(seed);
  return (n: number) => rng.bytes(n);
};

describe("RC4", () => {
  test("matches the classic published vectors", () => {
    for (const [key, plain, cipher] of [
      ["Key", "Plaintext", "bbf316e8d940af0ad3"],
      ["Wiki", "pedia", "1021bf0420"],
      ["Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5"],
    ] as const) {
      const bytes = ascii(plain);
      new Rc4(ascii(key)).apply(bytes);
      expect(toHex(bytes)).toBe(cipher);
    }
  });

  test("mseRc4 drops the first 1024 keystream bytes; pieces, copies and in-place give the same stream", () => {
    const key = ascii("0123456789abcdefghij");
    const full = new Uint8Array(1024 + 300);
    new Rc4(key).apply(full);
    const after = new Uint8Array(300);
    mseRc4(key).apply(after);
    expect(after).toEqual(full.subarray(1024));

    const pieces = new Uint8Array(300);
    const c = mseRc4(key);
    c.apply(pieces, 0, 7);
    const dst = new Uint8Array(400);
    c.applyTo(pieces, 7, dst, 50, 293);
    pieces.set(dst.subarray(50, 343), 7);
    expect(pieces).toEqual(after);
  });

  test("saving and restoring the state rewinds the keystream", () => {
    const c = mseRc4(ascii("k"));
    const state = new Uint8Array(258);
    c.saveState(state);
    const a = new Uint8Array(100);
    c.apply(a);
    c.restoreState(state);
    const b = new Uint8Array(100);
    c.apply(b);
    expect(b).toEqual(a);
  });
});

describe("Diffie-Hellman", () => {
  test("both sides compute the same 96-byte secret; public values are padded to 96 bytes", () => {
    const a = new DhKeyPair(seeded(1)(20));
    const b = new DhKeyPair(seeded(2)(20));
    expect(a.publicKey.length).toBe(96);
    expect(toHex(a.sharedSecret(b.publicKey))).toBe(toHex(b.sharedSecret(a.publicKey)));
    // A small private key gives a public value with leading zero bytes: still 96 bytes.
    const small = new DhKeyPair(new Uint8Array(20).fill(0).fill(1, 19));
    expect(small.publicKey.length).toBe(96);
    expect(small.publicKey[95]).toBe(2);
  });

  test("degenerate peer values (0, 1, P-1, >= P) are refused with bad-public-key", () => {
    const a = new DhKeyPair(seeded(3)(20));
    for (const y of [0n, 1n, DH_PRIME - 1n, DH_PRIME, (1n << 768n) - 1n]) {
      expect(() => a.sharedSecret(bigIntToBytes(y, 96))).toThrow(MseError);
    }
  });
});

/** Runs a whole handshake between our two sides, delivering bytes in chunks of at most `chunk`. */
function handshake(opts: {
  provide: MseMethod[];
  accept: MseMethod[];
  chunk: number;
  seed: number;
  ia?: Uint8Array;
  infoHashes?: Uint8Array[];
  skey?: Uint8Array;
}) {
  const infoHash = opts.skey ?? seeded(opts.seed + 100)(20);
  const a = new MseInitiator({ infoHash, provide: opts.provide, initialPayload: opts.ia, random: seeded(opts.seed) });
  const b = new MseReceiver({ skeys: new SkeyTable(opts.infoHashes ?? [seeded(9)(20), infoHash]), accept: opts.accept, random: seeded(opts.seed + 1) });
  let toB = a.start();
  let toA = new Uint8Array(0);
  let doneA: MseResult | null = null;
  let doneB: MseResult | null = null;
  for (let rounds = 0; (!doneA || !doneB) && rounds < 10_000; rounds++) {
    if (toB.length > 0 && !doneB) {
      const piece = toB.subarray(0, opts.chunk);
      toB = toB.subarray(piece.length);
      const step = b.feed(piece);
      if (step.send) toA = Uint8Array.from([...toA, ...step.send]);
      doneB = step.done ?? doneB;
    } else if (toA.length > 0 && !doneA) {
      const piece = toA.subarray(0, opts.chunk);
      toA = toA.subarray(piece.length);
      const step = a.feed(piece);
      if (step.send) toB = Uint8Array.from([...toB, ...step.send]);
      doneA = step.done ?? doneA;
      expect(a.buffered).toBeLessThanOrEqual(520);
    } else break;
  }
  return { infoHash, a: doneA, b: doneB, leftToB: toB };
}

describe("handshake", () => {
  test("initiator and receiver agree on RC4, the torrent and IA, whatever the chunking; the payload then flows both ways", () => {
    const ia = ascii("\x13BitTorrent protocol........................................hello");
    for (const chunk of [1, 3, 17, 96, 600, 100_000]) {
      const { infoHash, a, b } = handshake({ provide: ["rc4", "plaintext"], accept: ["rc4", "plaintext"], chunk, seed: chunk, ia });
      expect(a?.selected).toBe("rc4");
      expect(b?.selected).toBe("rc4");
      expect(b!.infoHash).toEqual(infoHash);
      expect(b!.initialPayload).toEqual(ia);
      const msg = ascii("payload from A");
      const wire = msg.slice();
      a!.cipher!.encrypt.apply(wire);
      expect(wire).not.toEqual(msg);
      b!.cipher!.decrypt.apply(wire);
      expect(wire).toEqual(msg);
      const back = ascii("and from B");
      b!.cipher!.encrypt.apply(back);
      a!.cipher!.decrypt.apply(back);
      expect(back).toEqual(ascii("and from B"));
    }
  });

  test("plaintext is selected when only it is shared; the payload then has no cipher, IA still arrives", () => {
    const ia = ascii("initial");
    const offeredPlain = handshake({ provide: ["plaintext"], accept: ["rc4", "plaintext"], chunk: 50, seed: 5, ia });
    expect(offeredPlain.a?.selected).toBe("plaintext");
    expect(offeredPlain.a?.cipher).toBeNull();
    expect(offeredPlain.b?.cipher).toBeNull();
    expect(offeredPlain.b?.initialPayload).toEqual(ia);
    const acceptPlain = handshake({ provide: ["rc4", "plaintext"], accept: ["plaintext"], chunk: 50, seed: 6 });
    expect(acceptPlain.b?.selected).toBe("plaintext");
  });

  test("the receiver refuses a torrent it does not have, and methods it does not accept, with typed errors", () => {
    const codeOf = (fn: () => unknown) => errorCode(MseError, fn);
    expect(codeOf(() => handshake({ provide: ["rc4"], accept: ["rc4"], chunk: 1000, seed: 7, infoHashes: [seeded(8)(20)] }))).toBe("unknown-info-hash");
    expect(codeOf(() => handshake({ provide: ["plaintext"], accept: ["rc4"], chunk: 1000, seed: 8 }))).toBe("no-common-method");
  });

  test("the receiver gives up on req1 after 512 bytes of padding; the initiator on VC likewise", () => {
    const b = new MseReceiver({ skeys: new SkeyTable(), accept: ["rc4"], random: seeded(1) });
    expect(b.feed(new Uint8Array(96).fill(7)).send?.length).toBeGreaterThanOrEqual(96);
    expect(b.feed(new Uint8Array(531)).done).toBeNull();
    expect(() => b.feed(new Uint8Array(1))).toThrow("no HASH('req1', S) within 512 bytes");

    const a = new MseInitiator({ infoHash: new Uint8Array(20), provide: ["rc4"], random: seeded(2) });
    a.start();
    expect(a.feed(new Uint8Array(96).fill(9)).send).not.toBeNull();
    expect(a.feed(new Uint8Array(519)).done).toBeNull();
    expect(() => a.feed(new Uint8Array(1))).toThrow("no encrypted VC within 512 bytes");
  });
});

describe("first bytes and policy", () => {
  test("classifyIncoming: plaintext only on the exact prefix; decides on the first differing byte", () => {
    expect(classifyIncoming(ascii("\x13BitTorrent protocol\0\0"))).toBe("plaintext");
    expect(classifyIncoming(ascii("\x13BitTorrent protocol"))).toBe("plaintext");
    expect(classifyIncoming(ascii("\x13BitTorr"))).toBe("need-more");
    expect(classifyIncoming(new Uint8Array(0))).toBe("need-more");
    expect(classifyIncoming(ascii("\x13BitTorrenT"))).toBe("mse");
    expect(classifyIncoming(new Uint8Array([0x12]))).toBe("mse");
  });

  test("FirstBytes holds only what it needs to decide and hands every byte on once", () => {
    const plain = new FirstBytes();
    expect(plain.push(ascii("\x13BitTo"))).toBeNull();
    expect(plain.push(ascii("rrent proto"))).toBeNull();
    expect(plain.push(ascii("col\0\0\0rest"))).toEqual({ kind: "plaintext", bytes: ascii("\x13BitTorrent protocol\0\0\0rest") });
    expect(() => plain.push(ascii("x"))).toThrow();
    const mse = new FirstBytes();
    const ya = new Uint8Array(96).fill(0x13, 0, 1).fill(7, 1);
    expect(mse.push(ya.subarray(0, 1))).toBeNull();
    expect(mse.push(ya.subarray(1))).toEqual({ kind: "mse", bytes: ya });
  });

  test("policies: what is offered, accepted and tried in which order", () => {
    expect(nextAttempt("prefer", [])).toBe("mse");
    expect(nextAttempt("prefer", ["mse"])).toBe("plaintext");
    expect(nextAttempt("prefer", ["mse", "plaintext"])).toBeNull();
    expect(nextAttempt("prefer", [], "plaintext")).toBe("plaintext");
    expect(nextAttempt("prefer", ["plaintext"], "plaintext")).toBe("mse");
    expect(nextAttempt("require", [])).toBe("mse");
    expect(nextAttempt("require", ["mse"])).toBeNull();
    expect(nextAttempt("require", [], "plaintext")).toBe("mse");
    expect(nextAttempt("disable", [])).toBe("plaintext");
    expect(nextAttempt("disable", ["plaintext"])).toBeNull();
    expect(offeredMethods("require")).toEqual(["rc4"]);
    expect(acceptedMethods("prefer")).toEqual(["plaintext", "rc4"]);
    expect(acceptsIncoming("prefer", "mse") && acceptsIncoming("prefer", "plaintext")).toBe(true);
    expect(acceptsIncoming("require", "plaintext")).toBe(false);
    expect(acceptsIncoming("disable", "mse")).toBe(false);
  });
});
