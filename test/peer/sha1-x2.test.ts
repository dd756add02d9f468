// The native SHA-1 (machine code from peer/native/sha1-x2.c, run through bun:ffi) against
// Bun.CryptoHasher: one, two and four streams of different contents and lengths, and batches of any size,
// for every build of the code this CPU can run (sha-unit and base everywhere, avx512 where the CPU has it).
import { describe, expect, test } from "bun:test";
import { type NativeSha1, nativeSha1Variants } from "../../peer/verify/sha1-native.ts";

// Where the code is meant to run: x86-64 Linux, a CPU with SHA-NI and AVX (the AVX-512 build: and AVX-512F, VL).
const cpuinfo = await Bun.file("/proc/cpuinfo")
  .text()
  .catch(() => "");
const hasFlags = (flags: string[]) => flags.every((flag) => new RegExp(`\\b${flag}\\b`).test(cpuinfo));
const canRun = process.platform === "linux" && process.arch === "x64" && hasFlags(["sha_ni", "ssse3", "sse4_1", "avx"]);
const hasAvx512 = canRun && hasFlags(["avx512f", "avx512vl"]);
const variants = nativeSha1Variants();

function reference(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha1").update(data).digest("hex");
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 20)).toString("hex");
}

/** Deterministic bytes that differ by seed (no two streams alike). */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const M = 1024 * 1024;
const LENGTHS = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, M - 1, M, M + 1];

describe.skipIf(!canRun)("native SHA-1 builds", () => {
  test("every build the CPU can run loads", () => {
    expect(variants.map((v) => v.variant)).toEqual(hasAvx512 ? ["sha-unit", "avx512", "base"] : ["sha-unit", "base"]);
  });
});

describe.each(variants.map((sha1) => [sha1.variant, sha1] as [string, NativeSha1]))("native SHA-1, %s build", (_, sha1) => {
  test("one stream matches Bun.CryptoHasher at every length around the block and padding edges", () => {
    const out = new Uint8Array(20);
    for (const length of LENGTHS) {
      const data = bytes(length, length);
      sha1.hash(data, out);
      expect({ length, digest: hex(out) }).toEqual({ length, digest: reference(data) });
    }
  });

  test("two streams of different contents and lengths each get their own digest", () => {
    const outA = new Uint8Array(20);
    const outB = new Uint8Array(20);
    for (const a of LENGTHS) {
      for (const b of [0, 55, 64, 65, M, M + 1]) {
        const x = bytes(a, a + 1);
        const y = bytes(b, b + 7);
        sha1.hash2(x, y, outA, outB);
        expect({ a, b, digests: [hex(outA), hex(outB)] }).toEqual({ a, b, digests: [reference(x), reference(y)] });
      }
    }
  });

  test("four streams of different contents and lengths each get their own digest", () => {
    const outs = [0, 1, 2, 3].map(() => new Uint8Array(20));
    const shapes = [
      [M, M, M, M],
      [0, 1, 55, 56],
      [64, 65, 128, 129],
      [M, M + 1, 1000, M - 1],
      [4096, 0, M, 63],
    ];
    for (const lengths of shapes) {
      const data = lengths.map((length, k) => bytes(length, length + 11 * k));
      sha1.hash4(data, outs);
      expect({ lengths, digests: outs.map(hex) }).toEqual({ lengths, digests: data.map(reference) });
    }
  });

  test("a batch of any size, at two or four lanes, gets each piece's own digest", () => {
    const lanes = sha1.lanes;
    try {
      for (const lanesNow of [2, 4] as const) {
        sha1.lanes = lanesNow;
        for (let n = 1; n <= 9; n++) {
          const data = Array.from({ length: n }, (_, k) => bytes(k === n - 1 ? 70_000 + n : 65_536, 100 * n + k));
          const outs = data.map(() => new Uint8Array(20));
          sha1.hashMany(data, outs);
          expect({ lanesNow, n, digests: outs.map(hex) }).toEqual({ lanesNow, n, digests: data.map(reference) });
        }
      }
    } finally {
      sha1.lanes = lanes;
    }
  });

  test("streams fed a chunk at a time, on four lanes together or one lane at a time, get each stream's digest", () => {
    const CHUNK = 4096;
    const lengths = [3 * CHUNK, 3 * CHUNK, 2 * CHUNK + 100, 3 * CHUNK - 1];
    const data = lengths.map((length, k) => bytes(length, 500 + k));
    const outs = lengths.map(() => new Uint8Array(20));
    for (let lane = 0; lane < 4; lane++) sha1.begin(lane);
    for (let done = 0; done < 3 * CHUNK; done += CHUNK) {
      const parts = data.map((d) => d.subarray(done, done + CHUNK));
      const together = parts.every((p) => p.length === CHUNK);
      if (together) sha1.update4(parts);
      parts.forEach((part, lane) => {
        if (part.length === 0) return;
        if (!together) sha1.update(lane, part);
        if (done + part.length === lengths[lane]) sha1.end(lane, part, lengths[lane]!, outs[lane]!);
      });
    }
    expect(outs.map(hex)).toEqual(data.map(reference));
  });

  test("views at any offset into a shared buffer, random lengths", () => {
    const pool = new Uint8Array(new SharedArrayBuffer(4 * M));
    pool.set(bytes(pool.length, 99));
    const outA = new Uint8Array(20);
    const outB = new Uint8Array(20);
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 40; round++) {
      const lengthA = next(2 * M);
      const lengthB = next(2 * M);
      const a = pool.subarray(next(M), undefined).subarray(0, lengthA);
      const b = pool.subarray(next(M) + 3, undefined).subarray(0, lengthB);
      sha1.hash2(a, b, outA, outB);
      expect([hex(outA), hex(outB)]).toEqual([reference(a), reference(b)]);
    }
  });

  test("a changed byte changes the digest (a corrupt piece cannot pass)", () => {
    const data = bytes(M, 5);
    const good = new Uint8Array(20);
    const bad = new Uint8Array(20);
    const other = new Uint8Array(20);
    sha1.hash(data, good);
    const corrupt = data.slice();
    corrupt[M / 2]! ^= 1;
    sha1.hash2(corrupt, data, bad, other);
    expect(hex(bad)).not.toBe(hex(good));
    expect(hex(other)).toBe(hex(good));
  });
});

function variantIn(env: Record<string, string>): string {
  const modulePath = new URL("../../peer/verify/sha1-native.ts", import.meta.url).pathname;
  const run = Bun.spawnSync({
    cmd: [process.execPath, "-e", `import { nativeSha1 } from ${JSON.stringify(modulePath)}; console.log(nativeSha1()?.variant ?? "none")`],
    env: { ...process.env, ...env },
  });
  return run.stdout.toString().trim();
}

test("BTPEER_SHA_X2=0 leaves the hashing to Bun.CryptoHasher (no native code loaded)", () => {
  expect(variantIn({ BTPEER_SHA_X2: "0" })).toBe("none");
});

test.skipIf(!canRun)("BTPEER_SHA_BUILD names the build; without it the fastest build the CPU runs is taken", () => {
  expect(variantIn({ BTPEER_SHA_X2: "1", BTPEER_SHA_BUILD: "base" })).toBe("base");
  expect(variantIn({ BTPEER_SHA_X2: "1", BTPEER_SHA_BUILD: "sha-unit" })).toBe("sha-unit");
  expect(variants.map((v) => v.variant)).toContain(variantIn({ BTPEER_SHA_X2: "1", BTPEER_SHA_BUILD: "" }));
});
