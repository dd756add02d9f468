// SHA-1 on the x86 SHA extensions (SHA-NI) from machine code carried in the binary (../native/sha1-x2.c, loaded by
// ../native/machine-code.ts), for up to four pieces at once. One SHA-1 stream is bound by the latency of its
// round instructions, so Bun.CryptoHasher (like libcrypto) runs at ≈1.5 GB/s on a core that can do two to
// three times that: sha1_x2 and sha1_x4 hash two and four independent pieces interleaved in one loop.
//
// Where machine code can run (x86-64 Linux, a CPU with SHA-NI and AVX) and unless BTPEER_SHA_X2=0; elsewhere
// nativeSha1() is null and callers keep Bun.CryptoHasher. The same C is built three ways, which differ in where
// the message schedule of each stream is computed (the SHA unit or the vector units), and which is fastest
// depends on the CPU: Ice Lake shares one unit between sha1msg2 and the rounds, Zen 4 does not. So each thread
// times the builds its CPU can run on a few small inputs when it loads them (well under a millisecond) and
// keeps the fastest, with the number of pieces it hashes at once (two or four) that was faster for it;
// BTPEER_SHA_BUILD=name picks a build instead. A known-answer check runs on load.
import { FFIType } from "bun:ffi";
import { loadMachineCode } from "../native/machine-code.ts";
import * as avx512 from "../native/sha1-x2-avx512-code.ts";
import * as base from "../native/sha1-x2-code.ts";
import * as shaUnit from "../native/sha1-x2-sha-unit-code.ts";

const INITIAL = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

type X1 = (state: Uint32Array, data: Uint8Array, blocks: number) => void;
type X2 = (stateA: Uint32Array, stateB: Uint32Array, a: Uint8Array, b: Uint8Array, blocks: number) => void;
type X4 = (states: Uint32Array, a: Uint8Array, b: Uint8Array, c: Uint8Array, d: Uint8Array, blocks: number) => void;

/** SHA-1 of one to four byte ranges; each digest goes to the first 20 bytes of its `out`. */
export class NativeSha1 {
  readonly #stateA = new Uint32Array(5);
  readonly #stateB = new Uint32Array(5);
  /** sha1_x4's four states, five words each, and a view of each. */
  readonly #states4 = new Uint32Array(20);
  readonly #lanes4 = [0, 1, 2, 3].map((i) => this.#states4.subarray(5 * i, 5 * i + 5));
  // The final one or two blocks of each stream: the tail of the data, 0x80, zeros, the length in bits.
  readonly #padA = new Uint8Array(128);
  readonly #padB = new Uint8Array(128);
  /** Where hashMany puts the digest of a lane that repeats another (three pieces on four lanes). */
  readonly #spare = new Uint8Array(20);

  /** How many pieces hashMany hashes in one loop: 2 or 4, whichever was faster for this build on this CPU. */
  lanes: 2 | 4 = 4;

  constructor(
    /** Which build of sha1-x2.c runs: "sha-unit", "avx512" or "base". */
    readonly variant: string,
    private readonly x1: X1,
    private readonly x2: X2,
    private readonly x4: X4,
  ) {}

  hash(data: Uint8Array, out: Uint8Array): void {
    const state = this.#stateA;
    state.set(INITIAL);
    const blocks = data.length >>> 6;
    if (blocks > 0) this.x1(state, data, blocks);
    this.#finishAll(state, this.#padA, data, out);
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
    this.#finishAll(sa, this.#padA, a, outA);
    this.#finishAll(sb, this.#padB, b, outB);
  }

  /** The SHA-1s of four ranges, hashed together for as many whole blocks as all four have. */
  hash4(data: readonly Uint8Array[], outs: readonly Uint8Array[]): void {
    const lanes = this.#lanes4;
    let common = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 4; i++) {
      lanes[i]!.set(INITIAL);
      common = Math.min(common, data[i]!.length >>> 6);
    }
    if (common > 0) this.x4(this.#states4, data[0]!, data[1]!, data[2]!, data[3]!, common);
    for (let i = 0; i < 4; i++) {
      const d = data[i]!;
      const blocks = d.length >>> 6;
      if (blocks > common) this.x1(lanes[i]!, d.subarray(common * 64), blocks - common);
      this.#finishAll(lanes[i]!, this.#padA, d, outs[i]!);
    }
  }

  /**
   * The SHA-1s of any number of ranges, `lanes` at a time: three on four lanes repeat the third (a wasted
   * lane still beats a pair and one alone), and what is left goes in a pair or alone.
   */
  hashMany(data: readonly Uint8Array[], outs: readonly Uint8Array[]): void {
    let i = 0;
    if (this.lanes === 4) {
      for (; data.length - i >= 3; i += 4) {
        if (data.length - i >= 4) this.hash4(data.slice(i, i + 4), outs.slice(i, i + 4));
        else this.hash4([data[i]!, data[i + 1]!, data[i + 2]!, data[i + 2]!], [outs[i]!, outs[i + 1]!, outs[i + 2]!, this.#spare]);
      }
      if (i > data.length) return;
    }
    for (; data.length - i >= 2; i += 2) this.hash2(data[i]!, data[i + 1]!, outs[i]!, outs[i + 1]!);
    if (i < data.length) this.hash(data[i]!, outs[i]!);
  }

  // Streams fed a chunk at a time, on the four lanes (a check of data on disk reads pieces in chunks).

  /** Starts lane `lane` (0-3) on a new stream. */
  begin(lane: number): void {
    this.#lanes4[lane]!.set(INITIAL);
  }

  /** The next bytes of all four lanes' streams, the same length, whole 64-byte blocks. */
  update4(chunks: readonly Uint8Array[]): void {
    const blocks = chunks[0]!.length >>> 6;
    if (blocks > 0) this.x4(this.#states4, chunks[0]!, chunks[1]!, chunks[2]!, chunks[3]!, blocks);
  }

  /** The next bytes of lane `lane`'s stream; only its last ones may end in a partial block (passed to `end`). */
  update(lane: number, bytes: Uint8Array): void {
    const blocks = bytes.length >>> 6;
    if (blocks > 0) this.x1(this.#lanes4[lane]!, bytes, blocks);
  }

  /** Lane `lane`'s digest, its stream `length` bytes long; `last` is its last update's bytes (or empty). */
  end(lane: number, last: Uint8Array, length: number, out: Uint8Array): void {
    this.#finish(this.#lanes4[lane]!, this.#padA, last.subarray(last.length - (last.length & 63)), length, out);
  }

  #finishAll(state: Uint32Array, pad: Uint8Array, data: Uint8Array, out: Uint8Array): void {
    this.#finish(state, pad, data.subarray(data.length - (data.length & 63)), data.length, out);
  }

  /** Pads and hashes the final partial block `rest` of a stream `length` bytes long; the digest to `out`. */
  #finish(state: Uint32Array, pad: Uint8Array, rest: Uint8Array, length: number, out: Uint8Array): void {
    const tail = rest.length;
    pad.fill(0);
    pad.set(rest);
    pad[tail] = 0x80;
    const padBlocks = tail < 56 ? 1 : 2;
    const end = padBlocks * 64;
    const bitsHigh = Math.floor(length / 0x20000000); // length * 8 / 2^32
    const bitsLow = (length * 8) >>> 0;
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
  readonly x4: number;
}

/** The builds (the order is only the order tests and benches list them in). */
const VARIANTS: readonly Sha1Build[] = [
  {
    name: "sha-unit",
    flags: [],
    code: shaUnit.CODE_BASE64,
    x1: shaUnit.OFFSETS.sha1_x1_sha_unit,
    x2: shaUnit.OFFSETS.sha1_x2_sha_unit,
    x4: shaUnit.OFFSETS.sha1_x4_sha_unit,
  },
  {
    name: "avx512",
    flags: ["avx512f", "avx512vl"],
    code: avx512.CODE_BASE64,
    x1: avx512.OFFSETS.sha1_x1_avx512,
    x2: avx512.OFFSETS.sha1_x2_avx512,
    x4: avx512.OFFSETS.sha1_x4_avx512,
  },
  { name: "base", flags: [], code: base.CODE_BASE64, x1: base.OFFSETS.sha1_x1, x2: base.OFFSETS.sha1_x2, x4: base.OFFSETS.sha1_x4 },
];

let loaded: NativeSha1 | null | undefined;

/** This thread's native SHA-1, or null where it cannot or should not run (then use Bun.CryptoHasher). */
export function nativeSha1(): NativeSha1 | null {
  if (loaded === undefined) loaded = process.env.BTPEER_SHA_X2 === "0" ? null : load(process.env.BTPEER_SHA_BUILD);
  return loaded;
}

function load(named: string | undefined): NativeSha1 | null {
  if (named) {
    const build = VARIANTS.find((v) => v.name === named);
    const sha1 = build ? loadBuild(build) : null;
    if (sha1) timeLanes(sha1);
    return sha1;
  }
  return fastest(nativeSha1Variants());
}

/** Every build this CPU can run, each loaded and checked (tests and benches compare them). */
export function nativeSha1Variants(): NativeSha1[] {
  return VARIANTS.map(loadBuild).filter((sha1) => sha1 !== null);
}

// Timing inputs: four streams of 16 KiB, hashed in cache. Small enough that timing every build and lane count
// three times costs well under a millisecond; the fastest of the three of each is taken, so a preemption in
// one does not decide.
const TIMING_BYTES = 16 * 1024;
const TIMING_TRIES = 3;

/** Seconds `sha1` takes to hash four streams at `lanes` at a time, the best of a few tries. */
function timeOf(sha1: NativeSha1, lanes: 2 | 4, data: Uint8Array[], outs: Uint8Array[]): number {
  sha1.lanes = lanes;
  let best = Number.POSITIVE_INFINITY;
  for (let t = 0; t < TIMING_TRIES; t++) {
    const start = performance.now();
    sha1.hashMany(data, outs);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

let timingInput: { data: Uint8Array[]; outs: Uint8Array[] } | undefined;

/** Sets `sha1.lanes` to whichever of 2 and 4 hashed faster here; returns that time. */
function timeLanes(sha1: NativeSha1): number {
  timingInput ??= {
    data: [1, 2, 3, 4].map((seed) => new Uint8Array(TIMING_BYTES).map((_, i) => (i * seed) & 0xff)),
    outs: [1, 2, 3, 4].map(() => new Uint8Array(20)),
  };
  const { data, outs } = timingInput;
  sha1.hashMany(data, outs); // the first call also warms the code and the FFI stubs
  const two = timeOf(sha1, 2, data, outs);
  const four = timeOf(sha1, 4, data, outs);
  sha1.lanes = four <= two ? 4 : 2;
  return Math.min(two, four);
}

/** The build, of those given, that hashes fastest on this CPU (at its better lane count); null if none. */
export function fastest(builds: readonly NativeSha1[]): NativeSha1 | null {
  let best: NativeSha1 | null = null;
  let bestTime = Number.POSITIVE_INFINITY;
  for (const sha1 of builds) {
    const time = timeLanes(sha1);
    if (time < bestTime) {
      best = sha1;
      bestTime = time;
    }
  }
  if (best) timeLanes(best); // its lanes as timed last, after the others warmed the caches alike
  return best;
}

/** `variant` mapped and checked against Bun.CryptoHasher; null where the CPU cannot run it or it disagrees. */
export function loadBuild(variant: Sha1Build): NativeSha1 | null {
  const code = loadMachineCode(
    variant.code,
    { x1: variant.x1, x2: variant.x2, x4: variant.x4 },
    {
      x1: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void },
      x2: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void },
      x4: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void },
    },
    variant.flags,
  );
  if (code === null) return null;
  const sha1 = new NativeSha1(variant.name, code.x1 as unknown as X1, code.x2 as unknown as X2, code.x4 as unknown as X4);
  return knownAnswer(sha1) ? sha1 : null;
}

/** The code agrees with Bun.CryptoHasher on short inputs of different lengths, two and four hashed together. */
function knownAnswer(sha1: NativeSha1): boolean {
  const inputs = [200, 131, 64, 329].map((length, k) => new Uint8Array(length).map((_, i) => i * (7 + k) + k));
  const outs = inputs.map(() => new Uint8Array(20));
  const expect = (data: Uint8Array) => new Uint8Array(new Bun.CryptoHasher("sha1").update(data).digest());
  const same = (x: Uint8Array, y: Uint8Array) => x.every((v, i) => v === y[i]);
  const allRight = () => inputs.every((data, i) => same(outs[i]!, expect(data)));
  sha1.hash2(inputs[0]!, inputs[1]!, outs[0]!, outs[1]!);
  sha1.hash2(inputs[2]!, inputs[3]!, outs[2]!, outs[3]!);
  if (!allRight()) return false;
  for (const out of outs) out.fill(0);
  sha1.hash4(inputs, outs);
  return allRight();
}
