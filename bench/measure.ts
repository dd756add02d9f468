// Measurement helpers shared by the end-to-end benches (bench:swarm, bench:clients): CPU from /proc,
// a memory warm-up before each run, and the comparison of a downloaded tree with the original.
import fs from "node:fs";
import path from "node:path";
import { makeRandomFile } from "../test/support/files.ts";

const USER_HZ = 100; // Linux reports /proc CPU times in USER_HZ ticks, 100 per second

/**
 * CPU seconds all cores have spent busy since boot (/proc/stat: everything but idle, iowait and steal).
 * Steal is time a virtual machine's CPU wanted to run while the hypervisor ran other guests: no work of
 * this machine's, and on a shared host it grows with a transfer's length, so counting it would make the
 * slower of two clients look costlier per GiB for the host's sake.
 */
export function machineBusySeconds(): number {
  const fields = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return (user + nice + system + irq + softirq) / USER_HZ;
}

/**
 * CPU seconds (user + system) a running process has spent, its reaped children included, from
 * /proc/<pid>/stat; null once it is gone. For processes the bench did not spawn itself, or that keep
 * running after the measured part (a seeder, a daemon), where rusage at exit is no use.
 */
export function processCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name may hold spaces and parentheses: fields are counted after its closing one.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
  return (utime! + stime! + cutime! + cstime!) / USER_HZ;
}

/**
 * Touches `bytes` of memory through the page cache and frees it. On VMs that hand idle memory back to
 * the host, the first write into reclaimed memory costs about ten times more; without this the figures
 * swing with how long memory sat idle, not with the client.
 */
export function warmMemory(tmp: string, bytes: number): void {
  const file = path.join(tmp, "warm.bin");
  makeRandomFile(file, Math.min(bytes, 8 * 2 ** 30), 99);
  fs.rmSync(file);
}

/** Empty when `got` holds exactly the expected files with the expected contents, else what differs. */
export function compareSums(got: Map<string, string>, want: Map<string, string>): string {
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  const wrong = [...want.keys()].filter((k) => got.has(k) && got.get(k) !== want.get(k));
  const show = (what: string, xs: string[]) => (xs.length ? `${xs.length} ${what} (${xs.slice(0, 3).join(", ")}${xs.length > 3 ? ", ..." : ""})` : "");
  return [show("missing", missing), show("unexpected", extra), show("with wrong content", wrong)].filter(Boolean).join("; ");
}
