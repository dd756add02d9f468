// The builds of peer/native/sha1-x2.c this CPU can run (sha1-native.ts: "avx512" where the CPU has AVX-512F
// and VL, and "base"), compared in process on what the hashing thread does most: hash2 on two 1 MiB pieces.
// The pieces cycle through a 64 MiB buffer (more than the caches hold, like the pool's slots). Rounds
// alternate the builds, rotating which goes first; each round is GB hashed per CPU second of this process.
// --one measures hash (one piece at a time, sha1_x1) instead.
//
//   bun bench/sha1-x2.ts [--rounds 20] [--mib 256] [--one] [--extra NAME=PATH.ts ...]
import { loadBuild, type NativeSha1, nativeSha1Variants } from "../peer/verify/sha1-native.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const rounds = Number(arg("rounds", "20"));
const one = process.argv.includes("--one");
const bytesPerRound = Number(arg("mib", "256")) * 1024 * 1024;
const PIECE = 1024 * 1024;
const pool = new Uint8Array(64 * 1024 * 1024);
for (let i = 0; i < pool.length; i += 65536) crypto.getRandomValues(pool.subarray(i, i + 65536));
const pairs = pool.length / (2 * PIECE);

/** Extra builds to compare (a trial compile's generated module, its first two offsets x1 and x2): --extra NAME=PATH.ts. */
async function extras(): Promise<NativeSha1[]> {
  const out: NativeSha1[] = [];
  for (let i = 0; i < process.argv.length; i++) {
    if (process.argv[i] !== "--extra") continue;
    const [name, file] = (process.argv[i + 1] ?? "").split("=") as [string, string];
    const mod = await import(new URL(file, `file://${process.cwd()}/`).href);
    const [x1, x2] = Object.values(mod.OFFSETS as Record<string, number>) as [number, number];
    const sha1 = loadBuild({ name, flags: [], code: mod.CODE_BASE64, x1, x2 });
    if (sha1 === null) throw new Error(`${file} does not load or gives wrong digests`);
    out.push(sha1);
  }
  return out;
}

const variants = [...nativeSha1Variants(), ...(await extras())];
if (variants.length === 0) {
  console.log("no build of sha1-x2.c runs on this CPU");
  process.exit(0);
}

function round(sha1: NativeSha1): number {
  const outA = new Uint8Array(20);
  const outB = new Uint8Array(20);
  const start = process.cpuUsage();
  for (let done = 0, p = 0; done < bytesPerRound; done += 2 * PIECE, p = (p + 1) % pairs) {
    const at = p * 2 * PIECE;
    if (one) {
      sha1.hash(pool.subarray(at, at + PIECE), outA);
      sha1.hash(pool.subarray(at + PIECE, at + 2 * PIECE), outB);
    } else sha1.hash2(pool.subarray(at, at + PIECE), pool.subarray(at + PIECE, at + 2 * PIECE), outA, outB);
  }
  const used = process.cpuUsage(start);
  return bytesPerRound / 1e9 / ((used.user + used.system) / 1e6);
}

const results = new Map<string, number[]>(variants.map((v) => [v.variant, []]));
for (const v of variants) round(v); // warm up
for (let r = 0; r < rounds; r++) {
  const line: string[] = [];
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(r + k) % variants.length]!;
    const gbps = round(v);
    results.get(v.variant)!.push(gbps);
    line.push(`${v.variant} ${gbps.toFixed(3)}`);
  }
  console.log(`round ${r + 1}: ${line.join("  ")}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const first = variants[0]!.variant;
for (const [name, xs] of results) {
  const wins = name === first ? "" : `, faster than ${first} in ${xs.filter((x, i) => x > results.get(first)![i]!).length} of ${xs.length} rounds`;
  console.log(`${name}: median ${median(xs).toFixed(3)} GB per CPU s (${(1 / median(xs)).toFixed(3)} s/GB)${wins}`);
}
