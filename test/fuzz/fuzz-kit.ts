// What the fuzz targets share: a seeded PRNG, a byte mutator, a runner that makes each case
// reproducible on its own, a minimiser for failing inputs, and the allocation meters.
//
// Deterministic by default: a fixed seed and a case count that runs in seconds inside `npm test`.
//   FUZZ_CASES=200000 bun test test/fuzz     a long run (the count applies to every target)
//   FUZZ_SEED=1234 bun test test/fuzz        another seed (a failure prints the one to reuse)
// Case i draws everything from mix(seed, i), so a failure reproduces with the printed seed and a
// case count past its index, whatever ran before it.
import { heapStats } from "bun:jsc";
import { concatBytes, toHex } from "../../shared/bytes.ts";

/** sfc32: small, fast, good enough to drive a fuzzer; the same sequence on every machine. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 0 <= n < bound. */
  int(bound: number): number {
    return bound <= 0 ? 0 : Math.floor((this.u32() / 0x100000000) * bound);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Integers where parsers go wrong: zero, signs, the edges of 8/16/31/32/53/64 bits, lengths past any input. */
export const BOUNDARY_NUMBERS: readonly string[] = [
  "0",
  "1",
  "-1",
  "-0",
  "00",
  "01",
  "255",
  "256",
  "65535",
  "65536",
  "16384",
  "16385",
  "2147483647",
  "2147483648",
  "-2147483648",
  "4294967295",
  "4294967296",
  "9007199254740991",
  "9007199254740992",
  "-9007199254740991",
  "-9007199254740992",
  "18446744073709551615",
  "18446744073709551616",
  "999999999",
  "99999999999999999999",
  "1e3",
  "0x10",
  " 1",
  "+1",
];

/** Binary 32-bit values where length prefixes and indexes go wrong. */
const BOUNDARY_U32 = [0, 1, 2, 4, 5, 9, 12, 13, 16383, 16384, 16385, 16393, 16394, 65535, 65536, 65537, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

const encoder = new TextEncoder();

/**
 * Mutates inputs drawn from a corpus of valid ones. `tokens` are format-specific fragments worth
 * inserting (bencode markers, query parameter names...). Each call applies one to four of: bit
 * flips, random bytes, insert/delete/duplicate a range, splice in part of another corpus entry,
 * truncate, a boundary number over a run of digits, a boundary 32-bit value, or a token.
 */
export class Mutator {
  constructor(
    private readonly corpus: readonly Uint8Array[],
    private readonly tokens: readonly Uint8Array[] = [],
    /** Largest input ever produced: keeps a long run from growing inputs without limit. */
    private readonly maxLength = 1 << 16,
  ) {
    if (corpus.length === 0) throw new Error("a mutator needs at least one valid input");
  }

  /** A fresh input: usually a mutated corpus entry, sometimes one left whole or pure noise. */
  next(rng: Rng): Uint8Array {
    const roll = rng.int(100);
    if (roll < 3) return rng.bytes(rng.int(64));
    let input: Uint8Array = rng.pick(this.corpus).slice();
    if (roll < 8) return input;
    const steps = 1 + rng.int(4);
    for (let i = 0; i < steps; i++) input = this.mutate(input, rng);
    return input.length > this.maxLength ? input.subarray(0, this.maxLength) : input;
  }

  mutate(input: Uint8Array, rng: Rng): Uint8Array {
    const n = input.length;
    const at = rng.int(n + 1);
    switch (rng.int(11)) {
      case 0: {
        // flip one to eight bits
        if (n === 0) return input;
        const out = input.slice();
        for (let k = 1 + rng.int(8); k > 0; k--) out[rng.int(n)]! ^= 1 << rng.int(8);
        return out;
      }
      case 1: {
        if (n === 0) return input;
        const out = input.slice();
        out[rng.int(n)] = rng.u32() & 0xff;
        return out;
      }
      case 2:
        return splice(input, at, 0, rng.bytes(1 + rng.int(8)));
      case 3:
        return splice(input, at, 1 + rng.int(Math.max(1, Math.min(32, n - at))), new Uint8Array(0));
      case 4: {
        // duplicate a range in place, sometimes many times (deep nesting, long lists)
        const len = 1 + rng.int(Math.max(1, Math.min(64, n - at)));
        const piece = input.subarray(at, at + len);
        const times = rng.chance(0.2) ? 1 + rng.int(200) : 1;
        const copies = new Uint8Array(piece.length * times);
        for (let t = 0; t < times; t++) copies.set(piece, t * piece.length);
        return splice(input, at, 0, copies);
      }
      case 5: {
        // splice: this input's head, another valid input's tail
        const other = rng.pick(this.corpus);
        const from = rng.int(other.length + 1);
        return concat(input.subarray(0, at), other.subarray(from));
      }
      case 6:
        return input.subarray(0, rng.int(n + 1)).slice();
      case 7: {
        // a boundary number over a run of ASCII digits (or inserted where there is none)
        const text = encoder.encode(rng.pick(BOUNDARY_NUMBERS));
        const run = digitRunAt(input, rng.int(n + 1));
        return run ? splice(input, run.start, run.end - run.start, text) : splice(input, at, 0, text);
      }
      case 8: {
        // a boundary 32-bit big-endian value over four bytes
        const v = rng.pick(BOUNDARY_U32);
        const bytes = new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
        return splice(input, Math.min(at, Math.max(0, n - 4)), Math.min(4, n), bytes);
      }
      case 9:
        return this.tokens.length > 0 ? splice(input, at, 0, rng.pick(this.tokens)) : input;
      default: {
        // overwrite a range with another valid input's bytes
        const other = rng.pick(this.corpus);
        const from = rng.int(other.length + 1);
        const len = Math.min(1 + rng.int(32), other.length - from);
        return splice(input, at, Math.min(len, n - at), other.subarray(from, from + len));
      }
    }
  }
}

function splice(input: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(input.subarray(0, at), insert, input.subarray(at + remove));
}

/**
 * Writes `bytes` in random pieces (three in ten of at most `small` bytes, the others of at most `large`),
 * now and then a timer turn apart, so the reader sees every way a stream can be cut.
 */
export async function writeInPieces(
  socket: { write(b: Uint8Array): unknown; readonly destroyed: boolean },
  bytes: Uint8Array,
  rng: Rng,
  small: number,
  large: number,
): Promise<void> {
  for (let at = 0; at < bytes.length && !socket.destroyed; ) {
    const n = 1 + rng.int(rng.chance(0.3) ? small : large);
    socket.write(bytes.subarray(at, at + n));
    at += n;
    if (rng.chance(0.1)) await Bun.sleep(1);
  }
}

export const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

function digitRunAt(input: Uint8Array, from: number): { start: number; end: number } | null {
  for (let i = from; i < input.length; i++) {
    if (input[i]! >= 0x30 && input[i]! <= 0x39) {
      let end = i;
      while (end < input.length && input[end]! >= 0x30 && input[end]! <= 0x39) end++;
      return { start: i, end };
    }
  }
  return null;
}

export interface FuzzSettings {
  seed: number;
  cases: number;
}

/** The run's seed and case count: FUZZ_SEED / FUZZ_CASES when set, else the target's defaults. */
export function fuzzSettings(defaultCases: number): FuzzSettings {
  const seedText = process.env.FUZZ_SEED;
  const casesText = process.env.FUZZ_CASES;
  const seed = seedText ? Number(seedText) : 0x5eed;
  const cases = casesText ? Number(casesText) : defaultCases;
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(cases) || cases < 1) {
    throw new Error(`FUZZ_SEED and FUZZ_CASES must be whole numbers (got ${seedText}, ${casesText})`);
  }
  return { seed, cases };
}

/** The seed of case `index`: independent of every other case, so one case replays alone. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ index, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593);
  h ^= index * 0x9e3779b1;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Runs `check` on `cases` generated inputs. `check` throws (or rejects) to report a failure; the
 * runner then shrinks the input while the same kind of failure remains, and throws one error with
 * everything needed to replay it: the seed, the case index, the input in hex.
 */
export async function runFuzz(
  target: string,
  settings: FuzzSettings,
  generate: (rng: Rng) => Uint8Array,
  check: (input: Uint8Array, rng: Rng) => void | Promise<void>,
  /** `shrinkAttempts`: how many smaller inputs to try on a failure (fewer for slow checks; default 4000). */
  opts: { shrinkAttempts?: number } = {},
): Promise<void> {
  for (let i = 0; i < settings.cases; i++) {
    const input = generate(new Rng(caseSeed(settings.seed, i)));
    const failure = await failureOf(check, input, caseSeed(settings.seed, i) ^ 1);
    if (failure === null) continue;
    const small = await shrink(check, input, caseSeed(settings.seed, i) ^ 1, kindOf(failure), opts.shrinkAttempts ?? 4000);
    throw new Error(
      `fuzz ${target}: case ${i} failed (replay: FUZZ_SEED=${settings.seed} FUZZ_CASES=${i + 1})\n` +
        `  ${describeFailure(failure)}\n` +
        `  input (${input.length} bytes): ${toHex(input)}\n` +
        `  shrunk (${small.length} bytes): ${toHex(small)}\n` +
        `  shrunk as text: ${JSON.stringify(new TextDecoder().decode(small))}`,
      { cause: failure },
    );
  }
}

async function failureOf(check: (input: Uint8Array, rng: Rng) => void | Promise<void>, input: Uint8Array, seed: number): Promise<unknown> {
  try {
    await check(input, new Rng(seed));
    return null;
  } catch (error) {
    return error ?? new Error("threw a nullish value");
  }
}

function kindOf(failure: unknown): string {
  if (failure instanceof Error) return `${failure.name}: ${failure.message.split("\n")[0]!.replace(/\d+/g, "#")}`;
  return typeof failure;
}

function describeFailure(failure: unknown): string {
  if (failure instanceof Error) return `${failure.name}: ${failure.message}\n${failure.stack?.split("\n").slice(1, 6).join("\n") ?? ""}`;
  return String(failure);
}

/** Delta debugging, lite: drop ever smaller ranges while the failure stays the same kind. Bounded. */
async function shrink(
  check: (input: Uint8Array, rng: Rng) => void | Promise<void>,
  input: Uint8Array,
  seed: number,
  kind: string,
  maxAttempts: number,
): Promise<Uint8Array> {
  let best = input;
  let attempts = 0;
  for (let size = best.length >> 1; size >= 1 && attempts < maxAttempts; size = size >> 1) {
    for (let at = 0; at + size <= best.length && attempts < maxAttempts; ) {
      attempts++;
      const candidate = concat(best.subarray(0, at), best.subarray(at + size));
      const failure = await failureOf(check, candidate, seed);
      if (failure !== null && kindOf(failure) === kind) best = candidate;
      else at += size;
    }
  }
  return best;
}

/** Heap after a full collection, in bytes (JS heap plus memory held outside it, e.g. array buffers). */
export function heapAfterGc(): number {
  Bun.gc(true);
  const stats = heapStats();
  return stats.heapSize + stats.extraMemorySize;
}

/** A safety timeout for a target's test: generous, and growing with FUZZ_CASES for long runs. */
export function fuzzTimeout(settings: FuzzSettings, msPerCase = 2): number {
  return Math.max(120_000, settings.cases * msPerCase);
}
