// The builds of peer/native/sha1-x2.c this CPU can run (sha1-native.ts: "sha-unit", "base", and "avx512" where
// the CPU has AVX-512F and VL), compared in process on what the hashing thread does: hash2 on two 1 MiB pieces
// (the default), hash4 on four (--four), or hash on one at a time (--one). The pieces cycle through a 64 MiB
// buffer (more than the caches hold, like the pool's slots). Rounds alternate the builds, rotating which goes
// first; each round is GB hashed per CPU second of this process. The line "chosen:" names the build and lane
// count nativeSha1() picks on this CPU.
//
//   bun bench/sha1-x2.ts [--rounds 20] [--mib 256] [--one | --four] [--extra NAME=PATH.ts ...]
import { loadBuild, type NativeSha1, nativeSha1, nativeSha1Variants } from "../peer/verify/sha1-native.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const rounds = Number(arg("rounds", "20"));
const one = process.argv.includes("--one");
const four = process.argv.includes("--four");
const bytesPerRound = Number(arg("mib", "256")) * 1024 * 1024;
const PIECE = 1024 * 1024;
const pool = new Uint8Array(64 * 1024 * 1024);
for (let i = 0; i < pool.length; i += 65536) crypto.getRandomValues(pool.subarray(i, i + 65536));
const quads = pool.length / (4 * PIECE);

/** Extra builds to compare (a trial compile's generated module, its offsets x1, x2 and x4 in that order): --extra NAME=PATH.ts. */
async function extras(): Promise<NativeSha1[]> {
  const out: NativeSha1[] = [];
  for (let i = 0; i < process.argv.length; i++) {
    if (process.argv[i] !== "--extra") continue;
    const [name, file] = (process.argv[i + 1] ?? "").split("=") as [string, string];
    const mod = await import(new URL(file, `file://${process.cwd()}/`).href);
    const [x1, x2, x4] = Object.values(mod.OFFSETS as Record<string, number>) as [number, number, number];
    const sha1 = loadBuild({ name, flags: [], code: mod.CODE_BASE64, x1, x2, x4 });
    if (sha1 === null) throw new Error(`${file} does not load or gives wrong digests`);
    out.push(sha1);
  }
  return out;
}

const variants = [...nativeSha1Variants(), ...(await extras())];
const chosen = nativeSha1();
console.log(`chosen: ${chosen ? `${chosen.variant}, ${chosen.lanes} lanes` : "none (Bun.CryptoHasher)"}`);
if (variants.length === 0) {
  console.log("no build of sha1-x2.c runs on this CPU");
  process.exit(0);
}

function round(sha1: NativeSha1): number {
  const outs = [0, 1, 2, 3].map(() => new Uint8Array(20));
  const start = process.cpuUsage();
  for (let done = 0, q = 0; done < bytesPerRound; done += 4 * PIECE, q = (q + 1) % quads) {
    const pieces = [0, 1, 2, 3].map((k) => pool.subarray((4 * q + k) * PIECE, (4 * q + k + 1) * PIECE));
    if (one) for (let k = 0; k < 4; k++) sha1.hash(pieces[k]!, outs[k]!);
    else if (four) sha1.hash4(pieces, outs);
    else {
      sha1.hash2(pieces[0]!, pieces[1]!, outs[0]!, outs[1]!);
      sha1.hash2(pieces[2]!, pieces[3]!, outs[2]!, outs[3]!);
    }
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
