// SHA-1 on Intel's SHA extensions from machine code carried in the binary (native/sha1-x2.c, its bytes in
// native/sha1-x2-code.ts), for two pieces at once. One SHA-1 stream is bound by the latency of its round
// instructions, so Bun.CryptoHasher (like libcrypto) runs at ≈1.6 GB/s on a core that could do about twice
// that: sha1_x2 hashes two independent pieces interleaved in one loop. The bytes are copied into memory
// mapped executable through libc (mmap, then mprotect), so no compiler is needed at run time.
//
// Only on x86-64 Linux with glibc whose CPU reports sha_ni, ssse3, sse4_1 and avx (the code is built -mavx), and unless BTPEER_SHA_X2=0;
// elsewhere nativeSha1() is null and callers keep Bun.CryptoHasher. A known-answer check runs on load.
import { readFileSync } from "node:fs";
import { CFunction, dlopen, FFIType, toArrayBuffer } from "bun:ffi";
import { SHA1_CODE_BASE64, SHA1_X1_OFFSET, SHA1_X2_OFFSET } from "./native/sha1-x2-code.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_FAILED = 2 ** 64 - 1;
const PAGE = 4096;
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

let loaded: NativeSha1 | null | undefined;

/** This thread's native SHA-1, or null where it cannot or should not run (then use Bun.CryptoHasher). */
export function nativeSha1(): NativeSha1 | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}

function cpuCanRun(): boolean {
  try {
    const cpuinfo = readFileSync("/proc/cpuinfo", "latin1");
    const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "").trim().split(/\s+/));
    return flags.has("sha_ni") && flags.has("ssse3") && flags.has("sse4_1") && flags.has("avx");
  } catch {
    return false;
  }
}

function load(): NativeSha1 | null {
  if (process.env.BTPEER_SHA_X2 === "0" || process.platform !== "linux" || process.arch !== "x64") return null;
  if (!cpuCanRun()) return null;
  try {
    const libc = dlopen("libc.so.6", {
      mmap: { args: [FFIType.u64, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.u64 },
      mprotect: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    });
    const code = Buffer.from(SHA1_CODE_BASE64, "base64");
    const size = Math.ceil(code.length / PAGE) * PAGE;
    const base = Number(libc.symbols.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base === MAP_FAILED || base === 0) return null;
    new Uint8Array(toArrayBuffer(base as never, 0, size)).set(code);
    // Never unmapped: one page per thread for the process's life.
    if (libc.symbols.mprotect(base, size, PROT_READ | PROT_EXEC) !== 0) return null;
    const x1 = CFunction({ ptr: (base + SHA1_X1_OFFSET) as never, args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.void });
    const x2 = CFunction({
      ptr: (base + SHA1_X2_OFFSET) as never,
      args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64],
      returns: FFIType.void,
    });
    const sha1 = new NativeSha1(x1 as unknown as X1, x2 as unknown as X2);
    return knownAnswer(sha1) ? sha1 : null;
  } catch {
    return null;
  }
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
