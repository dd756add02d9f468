import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { toHex } from "./bytes.ts";
import { Sha1, sha1 } from "./sha1.ts";

const reference = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("hex");

describe("pure TypeScript SHA-1", () => {
  test("matches the FIPS 180 test vectors", () => {
    const te = new TextEncoder();
    expect(toHex(sha1(te.encode("")))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(toHex(sha1(te.encode("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(toHex(sha1(te.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe("84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  });

  test("matches node:crypto for every length around block and padding boundaries", () => {
    const data = crypto.getRandomValues(new Uint8Array(300));
    for (let n = 0; n <= 300; n++) {
      const part = data.subarray(0, n);
      expect(toHex(sha1(part))).toBe(reference(part));
    }
  });

  test("gives the same digest however the input is split into updates", () => {
    const data = crypto.getRandomValues(new Uint8Array(100_000));
    const expected = reference(data);
    for (const step of [1, 7, 63, 64, 65, 1000, 16384]) {
      const hasher = new Sha1();
      for (let i = 0; i < data.length; i += step) hasher.update(data.subarray(i, i + step));
      expect(toHex(hasher.digest())).toBe(expected);
    }
  });
});
