// SHA-1 on Intel's SHA extensions from machine code carried in the binary (../native/sha1-x2.c, loaded by
// ../native/machine-code.ts), for two pieces at once. One SHA-1 stream is bound by the latency of its round
// instructions, so Bun.CryptoHasher (like libcrypto) runs at ≈1.6 GB/s on a core that could do about twice
// that: sha1_x2 hashes two independent pieces interleaved in one loop.
//
// Where machine code can run (x86-64 Linux, a CPU with SHA-NI and AVX) and unless BTPEER_SHA_X2=0; elsewhere
// nativeSha1() is null and callers keep Bun.CryptoHasher. The same C is built twice: on a CPU with AVX-512F
// and VL the build for them runs (unless BTPEER_SHA_AVX512=0), else the base one. A known-answer check runs
// on load.
import { FFIType } from "bun:ffi";
import { loadMachineCode } from "../native/machine-code.ts";
import * as avx512 from "../native/sha1-x2-avx512-code.ts";
import * as base from "../native/sha1-x2-code.ts";

const INITIAL = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

type X1 = (state: Uint32Array, data: Uint8Array, blocks: number) => void;
type X2 = (stateA: Uint32Array, stateB: Uint32Array, a: Uint8Array, b: Uint8Array, blocks: number) => void;

/** SHA-1 of one or two byte ranges; digests go to the first 20 bytes of `out`. */
export class NativeSha1 {
  readonly #stateA = new Uint32Array(5);
  readonly #stateB = new Uint32Array(5);
  // The final one or two blocks of each stream: the tail of the data, 0x80, zeros, the length in bits.
  readonly #padA = new Uint8Array(128);
  readonly #padB = new Uint8Array(128);

  constructor(
    /** Which build of sha1-x2.c runs: "avx512" or "base". */
    readonly variant: string,
    private readonly x1: X1,
    private readonly x2: X2,
  ) {}

  hash(data: Uint8Array, out: Uint8Array): void {
    const state = this.#stateA;
    state.set(INITIAL);
    const blocks = data.length >>> 6;
    if (blocks > 0) this.x1(state, data, blocks);
    this.#finish(state, this.#padA, data, out);
  }

  /** The SHA-1s of `a` and `b`, hashed together for as many whole blocks as both have. */
  hash2(a: Uint8Array, b: Uint8Array, outA: Uint8Array, outB: Uint8Array): void {
    const sa = this.#stateA;
    const sb = this.#stateB;
    sa.set(INITIAL);
    sb.set(INITIAL);
    const blocksA = a.length >>> 6;
    const blocksB = b.length >>> 6;
    const common = Math.min(blocksA, blocksB);
    if (common > 0) this.x2(sa, sb, a, b, common);
    if (blocksA > common) this.x1(sa, a.subarray(common * 64), blocksA - common);
    if (blocksB > common) this.x1(sb, b.subarray(common * 64), blocksB - common);
    this.#finish(sa, this.#padA, a, outA);
    this.#finish(sb, this.#padB, b, outB);
  }

  #finish(state: Uint32Array, pad: Uint8Array, data: Uint8Array, out: Uint8Array): void {
    const tail = data.length & 63;
    pad.fill(0);
    pad.set(data.subarray(data.length - tail));
    pad[tail] = 0x80;
    const padBlocks = tail < 56 ? 1 : 2;
    const end = padBlocks * 64;
    const bitsHigh = Math.floor(data.length / 0x20000000); // length * 8 / 2^32
    const bitsLow = (data.length * 8) >>> 0;
    for (let i = 0; i < 4; i++) {
      pad[end - 8 + i] = (bitsHigh >>> (24 - 8 * i)) & 0xff;
      pad[end - 4 + i] = (bitsLow >>> (24 - 8 * i)) & 0xff;
    }
    this.x1(state, pad, padBlocks);
    for (let i = 0; i < 5; i++) {
      const w = state[i]!;
      out[i * 4] = w >>> 24;
      out[i * 4 + 1] = (w >>> 16) & 0xff;
      out[i * 4 + 2] = (w >>> 8) & 0xff;
      out[i * 4 + 3] = w & 0xff;
    }
  }
}

/** One build of sha1-x2.c: its code, its functions' offsets, the CPU flags it needs beyond machine-code.ts's. */
export interface Sha1Build {
  readonly name: string;
  readonly flags: readonly string[];
  readonly code: string;
  readonly x1: number;
  readonly x2: number;
}

/** The builds, preferred first. */
const VARIANTS: readonly Sha1Build[] = [
  { name: "avx512", flags: ["avx512f", "avx512vl"], code: avx512.CODE_BASE64, x1: avx512.OFFSETS.sha1_x1_avx512, x2: avx512.OFFSETS.sha1_x2_avx512 },
  { name: "base", flags: [], code: base.CODE_BASE64, x1: base.OFFSETS.sha1_x1, x2: base.OFFSETS.sha1_x2 },
];

let loaded: NativeSha1 | null | undefined;

/** This thread's native SHA-1, or null where it cannot or should not run (then use Bun.CryptoHasher). */
export function nativeSha1(): NativeSha1 | null {
  if (loaded === undefined) loaded = process.env.BTPEER_SHA_X2 === "0" ? null : load();
  return loaded;
}

function load(): NativeSha1 | null {
  const skipAvx512 = process.env.BTPEER_SHA_AVX512 === "0";
  for (const variant of VARIANTS) {
    if (skipAvx512 && variant.name === "avx512") continue;
    const sha1 = loadBuild(variant);
    if (sha1 !== null) return sha1;
  }
  return null;
}

/** Every build this CPU can run, each loaded and checked (tests and benches compare them). */
export function nativeSha1Variants(): NativeSha1[] {
  return VARIANTS.map(loadBuild).filter((sha1) => sha1 !== null);
}

/** `variant` mapped and checked against Bun.CryptoHasher; null where the CPU cannot run it or it disagrees. */
export function loadBuild(variant: Sha1Build): NativeSha1 | null {
  const code = loadMachineCode(
    variant.code,
    { x1: variant.x1, x2: variant.x2 },
    {
      x1: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void },
      x2: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void },
    },
    variant.flags,
  );
  if (code === null) return null;
  const sha1 = new NativeSha1(variant.name, code.x1 as unknown as X1, code.x2 as unknown as X2);
  return knownAnswer(sha1) ? sha1 : null;
}

/** The code agrees with Bun.CryptoHasher on two short inputs of different lengths, hashed together. */
function knownAnswer(sha1: NativeSha1): boolean {
  const a = new Uint8Array(200).map((_, i) => i * 7);
  const b = new Uint8Array(131).map((_, i) => 255 - i);
  const outA = new Uint8Array(20);
  const outB = new Uint8Array(20);
  sha1.hash2(a, b, outA, outB);
  const expect = (data: Uint8Array) => new Uint8Array(new Bun.CryptoHasher("sha1").update(data).digest());
  const same = (x: Uint8Array, y: Uint8Array) => x.every((v, i) => v === y[i]);
  return same(outA, expect(a)) && same(outB, expect(b));
}
