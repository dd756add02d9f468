// Machine code carried in the binary as bytes (this folder's C files, built by gen-code.sh) and run through
// bun:ffi: the bytes are copied into memory mapped with libc's mmap, made executable with mprotect, and each
// function is called with CFunction. No compiler is needed at run time, and the code is the same bytes on
// every machine. Only on x86-64 Linux with glibc whose CPU reports the features the code was built for;
// elsewhere (or when mapping fails) loadMachineCode returns null and callers keep their portable path.
import { readFileSync } from "node:fs";
import { CFunction, dlopen, FFIType, toArrayBuffer } from "bun:ffi";

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_FAILED = 2 ** 64 - 1;
const PAGE = 4096;

/** What gen-code.sh builds with (-msha -mavx): every function here may use these, some more (below). */
const REQUIRED_FLAGS = ["sha_ni", "ssse3", "sse4_1", "avx"];

export interface FunctionShape {
  readonly args: FFIType[];
  readonly returns: FFIType;
}

export type NativeFunction = (...args: unknown[]) => unknown;

let cpuFlags: Set<string> | undefined;

/**
 * x86-64 Linux whose CPU has every feature the code may use: the base set, and `extra` for code built for
 * more (sha1-x2-avx512.c: avx512f, avx512vl).
 */
export function machineCodeCanRun(extra: readonly string[] = []): boolean {
  if (cpuFlags === undefined) cpuFlags = process.platform === "linux" && process.arch === "x64" ? readCpuFlags() : new Set();
  const flags = cpuFlags;
  return REQUIRED_FLAGS.every((f) => flags.has(f)) && extra.every((f) => flags.has(f));
}

function readCpuFlags(): Set<string> {
  try {
    const cpuinfo = readFileSync("/proc/cpuinfo", "latin1");
    return new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "").trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/**
 * Maps `base64` (one generated module's CODE_BASE64) executable and returns its functions, called by
 * name through `shapes` at `offsets`; null where machine code cannot run (or the CPU lacks one of the
 * `extraFlags` the code was built for) or the mapping fails. The mapping lives as long as the process
 * (a page or two per thread that loads it).
 */
export function loadMachineCode<N extends string>(
  base64: string,
  offsets: Record<N, number>,
  shapes: Record<N, FunctionShape>,
  extraFlags: readonly string[] = [],
): Record<N, NativeFunction> | null {
  if (!machineCodeCanRun(extraFlags)) return null;
  try {
    const libc = dlopen("libc.so.6", {
      mmap: { args: [FFIType.u64, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.u64 },
      mprotect: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    });
    const code = Buffer.from(base64, "base64");
    const size = Math.ceil(code.length / PAGE) * PAGE;
    const base = Number(libc.symbols.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base === MAP_FAILED || base === 0) return null;
    new Uint8Array(toArrayBuffer(base as never, 0, size)).set(code);
    if (libc.symbols.mprotect(base, size, PROT_READ | PROT_EXEC) !== 0) return null;
    const functions = {} as Record<N, NativeFunction>;
    for (const name of Object.keys(offsets) as N[]) {
      const shape = shapes[name];
      functions[name] = CFunction({ ptr: (base + offsets[name]) as never, args: shape.args, returns: shape.returns }) as unknown as NativeFunction;
    }
    return functions;
  } catch {
    return null;
  }
}
