// The long-running commands (download, seed, daemon) run with JavaScriptCore's top JIT tier, FTL, off.
// btpeer's hot work is native (SHA-1, socket and file I/O); what FTL compiles gains less than compiling it
// costs. Measured on this project's 2-core machine, FTL off against on:
//   - a daemon adding 10,000 small torrents through its API (bench:daemon side): peak RSS 91 against
//     98-101 MiB, added in 5.7 against 6.8-7.0 s, restarted in 1.0 against 1.1-1.7 s;
//   - the leecher of a 1 GiB btpeer -> btpeer download: user CPU 1.02-1.18 against 1.17-1.22 s, peak RSS
//     99-103 against 104-109 MiB.
// JSC reads its options from the environment once, as the process starts, so the process replaces itself
// (execve(2), same pid, same arguments and environment) with the option set. An operator who sets
// BUN_JSC_useFTLJIT themselves keeps their choice; elsewhere than Linux, or if the exec fails, btpeer
// runs on as it started.
import { dlopen, FFIType, type Pointer, ptr } from "bun:ffi";
import * as fs from "node:fs";

export const FTL_OPTION = "BUN_JSC_useFTLJIT";

/** Returns only when the process was not replaced (not Linux, already decided, or the exec failed). */
export function execWithoutFtl(): void {
  if (process.platform !== "linux" || process.env[FTL_OPTION] !== undefined) return;
  let argv: Buffer;
  let environ: Buffer;
  try {
    // The process's own argument and environment blocks, byte for byte (NUL-separated, NUL-terminated).
    argv = fs.readFileSync("/proc/self/cmdline");
    environ = fs.readFileSync("/proc/self/environ");
  } catch {
    return;
  }
  if (argv.length === 0) return;
  let execve: (path: Pointer, argv: Pointer, envp: Pointer) => number;
  try {
    const { symbols } = dlopen("libc.so.6", { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    execve = (path, args, env) => symbols.execve(path, args, env);
  } catch {
    return; // no glibc: run on as started
  }
  const env = Buffer.concat([environ, Buffer.from(`${FTL_OPTION}=0\0`)]);
  const path = Buffer.from("/proc/self/exe\0");
  execve(ptr(path), ptr(pointersTo(argv)), ptr(pointersTo(env)));
  // Only reached when execve failed: this process goes on, FTL on.
}

/** A NULL-terminated array of pointers to each NUL-terminated string in `block`. */
function pointersTo(block: Buffer): BigUint64Array {
  const base = ptr(block);
  const starts: number[] = [];
  let start = 0;
  for (let i = 0; i < block.length; i++) {
    if (block[i] !== 0) continue;
    starts.push(start);
    start = i + 1;
  }
  const array = new BigUint64Array(starts.length + 1);
  starts.forEach((offset, i) => {
    array[i] = BigInt(base + offset);
  });
  return array;
}
