// Peak memory of a child process, read from /proc/<pid>/status while it runs.
// Not from rusage: Bun.spawn starts children vfork-style, and Linux carries the parent's high-water RSS
// into the child's ru_maxrss at exec, so a child of a large bench process "peaks" at the bench's own
// size (measured: `sleep` spawned from a Bun process holding 300 MiB reports a maxRSS of 323 MiB).
// VmHWM is the high-water mark of the child's own address space after exec, so sampling it misses
// nothing but growth in the last interval before exit.
import fs from "node:fs";

export interface MemoryPeaks {
  /** VmHWM: peak resident set, bytes (file pages a process maps count too). */
  peakRss: number;
  /** Largest RssAnon seen: heap and buffers, no file pages. */
  peakAnon: number;
  /** Largest RssFile seen: file pages mapped (the binary, its libraries, mmap'd data such as libtorrent 2's storage). */
  peakFile: number;
}

function statusFields(pid: number): { hwm: number; anon: number; file: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null; // gone
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  const hwm = kib("VmHWM");
  return Number.isNaN(hwm) ? null : { hwm, anon: kib("RssAnon") || 0, file: kib("RssFile") || 0 }; // a zombie has no Vm* lines
}

/** Starts sampling `pid` now and every `intervalMs`; `stop()` returns the peaks, or null if none was read. */
export function sampleMemory(pid: number, intervalMs = 50): { stop(): MemoryPeaks | null } {
  let peakRss = 0;
  let peakAnon = 0;
  let peakFile = 0;
  const sample = () => {
    const f = statusFields(pid);
    if (!f) return;
    peakRss = Math.max(peakRss, f.hwm);
    peakAnon = Math.max(peakAnon, f.anon);
    peakFile = Math.max(peakFile, f.file);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peakRss > 0 ? { peakRss, peakAnon, peakFile } : null;
    },
  };
}
