// Sorts the samples of bench/peer-profile.ts's `perf record` runs into categories, ms per GiB: per process
// and thread kind, the main threads by what the sample was doing and by system call, and the machine's
// softirq samples by whose context they ran in. Only samples inside each run's window count; one column
// per run.
//
//   bun bench/peer-profile.ts --runs 3 --perf DIR > DIR/runs.jsonl
//   bun bench/peer-profile-report.ts DIR/runs.jsonl
//
// The samples are cpu-clock (a timer: this VM has no hardware counters), so a sample that falls while
// interrupts are off lands where they come back on (spin_unlock_irqrestore, handle_softirqs): the kernel
// leaf is not trusted, the call chain is, and each sample goes to the first rule its chain matches. Sampling
// call chains at 1999 Hz adds about a tenth to the threads' CPU; take totals from a run without --perf.
import fs from "node:fs";

const runsFile = process.argv[2];
if (!runsFile) throw new Error("usage: peer-profile-report.ts <runs.jsonl written by peer-profile.ts --perf>");
const HZ = 1999;
const GiB = 2 ** 30;

interface Frame {
  sym: string;
  dso: string;
}
interface Sample {
  comm: string;
  pid: number;
  tid: number;
  time: number;
  chain: Frame[]; // leaf first
}

function* samples(text: string): Generator<Sample> {
  let cur: Sample | null = null;
  for (const line of text.split("\n")) {
    if (line.length === 0) {
      if (cur) yield cur;
      cur = null;
    } else if (line[0] !== "\t" && line[0] !== " ") {
      const m = /^(.*?)\s+(\d+)\/(\d+)\s+([\d.]+):/.exec(line);
      if (m) cur = { comm: m[1]!.trim(), pid: Number(m[2]), tid: Number(m[3]), time: Number(m[4]), chain: [] };
    } else if (cur) {
      const m = /^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$/.exec(line);
      if (m) cur.chain.push({ sym: m[1]!.replace(/\+0x[0-9a-f]+$/, ""), dso: m[2]! });
    }
  }
  if (cur) yield cur;
}

const isKernel = (f: Frame) => f.dso === "[kernel.kallsyms]";
const KERNEL_RULES: [string, RegExp][] = [
  ["softirq (loopback delivery: IP/TCP receive, ACKs)", /^(handle_softirqs|net_rx_action|__do_softirq|do_softirq|__napi_poll|process_backlog)$/],
  ["page faults", /^(exc_page_fault|asm_exc_page_fault|handle_mm_fault)$/],
  ["scheduler, context switch", /^(__schedule|schedule|finish_task_switch.*|schedule_hrtimeout_range.*)$/],
  ["copy to user (recv)", /^(_copy_to_iter|_copy_to_user|copy_user_generic|rep_movs_alternative|__skb_datagram_iter)$/],
  ["TCP receive (recvmsg, less its copy)", /^(tcp_recvmsg|tcp_recvmsg_locked|sock_recvmsg|__sys_recvfrom|tcp_read_sock)$/],
  ["splice file → pipe", /^(filemap_splice_read|copy_splice_read|splice_file_to_pipe|do_splice_read)$/],
  ["TCP send (splice pipe → socket, send, write)", /^(splice_to_socket|tcp_sendmsg|tcp_sendmsg_locked|sock_sendmsg|tcp_write_xmit|__tcp_push_pending_frames)$/],
  ["pipe write (block headers)", /^(anon_pipe_write|pipe_write)$/],
  ["epoll", /^(ep_poll|do_epoll_wait|__x64_sys_epoll_wait|__x64_sys_epoll_pwait.*|ep_send_events|do_epoll_ctl)$/],
  ["futex (thread wake/wait)", /^(futex_wake|futex_wait|do_futex|__x64_sys_futex)$/],
  ["file write (O_DIRECT / buffered)", /^(iomap_dio_rw|ext4_file_write_iter|vfs_write|ksys_pwrite64|__x64_sys_pwrite64|__x64_sys_write)$/],
  ["file read (pread)", /^(filemap_read|ext4_file_read_iter|__x64_sys_pread64)$/],
  ["madvise / munmap / mmap", /^(__x64_sys_madvise|__x64_sys_munmap|__x64_sys_mmap|do_madvise.*)$/],
];

/** What a sample was doing: a kernel chain by its first matching rule, user code by where its leaf is. */
function category(s: Sample): string {
  const leaf = s.chain[0];
  if (!leaf) return "no stack";
  if (isKernel(leaf)) {
    const kernel = s.chain.filter(isKernel).map((f) => f.sym);
    for (const [name, re] of KERNEL_RULES) if (kernel.some((sym) => re.test(sym))) return `kernel: ${name}`;
    if (kernel.some((sym) => /^(do_syscall_64|entry_SYSCALL_64.*|syscall_exit_to_user_mode|x64_sys_call)$/.test(sym)))
      return "kernel: syscall entry/exit, other";
    return `kernel: other (${leaf.sym})`;
  }
  if (leaf.dso.includes("libc.so"))
    return /mem(move|cpy|set)/.test(leaf.sym) ? `libc ${leaf.sym.replace(/_.*|^__/g, "") || leaf.sym}` : "libc other (syscall stubs)";
  if (leaf.dso === "[vdso]") return "vdso (clock_gettime)";
  if (/perf-\d+\.map/.test(leaf.dso)) return "JS: JIT-compiled code";
  if (/btpeer|bun/.test(leaf.dso)) return "Bun/JSC native (runtime, LLInt interpreter, GC)";
  return `other (${leaf.dso})`;
}

/** The system call a kernel sample is under, by the first frame that names one (some are inlined away). */
const SYSCALL_FRAMES: [RegExp, string][] = [
  [/^(__x64_sys_splice|__do_splice|do_splice)$/, "splice"],
  [/^(ksys_write|__x64_sys_write)$/, "write"],
  [/^(__sys_recvfrom|__x64_sys_recvfrom)$/, "recvfrom"],
  [/^(__sys_sendto|__x64_sys_sendto)$/, "sendto"],
  [/^(do_epoll_wait|__x64_sys_epoll_pwait2|__x64_sys_epoll_wait)$/, "epoll_wait"],
  [/^(do_futex|__x64_sys_futex)$/, "futex"],
  [/^(ksys_pwrite64|__x64_sys_pwrite64)$/, "pwrite64"],
  [/^(ksys_pread64|__x64_sys_pread64)$/, "pread64"],
  [/^__x64_sys_/, ""],
];
function syscall(s: Sample): string {
  if (!s.chain[0] || !isKernel(s.chain[0])) return "(user)";
  for (const f of s.chain) {
    if (!isKernel(f)) break;
    for (const [re, name] of SYSCALL_FRAMES) if (re.test(f.sym)) return name || f.sym.replace(/^__x64_sys_/, "");
  }
  if (s.chain.some((f) => /page_fault/.test(f.sym))) return "(page fault)";
  if (s.chain.some((f) => /^(do_syscall_64|entry_SYSCALL_64.*)$/.test(f.sym))) return "(syscall entry/exit)";
  if (s.chain.some((f) => /^(handle_softirqs|net_rx_action)$/.test(f.sym))) return "(softirq from an interrupt)";
  return "(interrupt / other)";
}

/** The JavaScript function nearest the leaf of a sample's stack (tier and JSC's hash left off), if any. */
function nearestFunction(s: Sample): string | null {
  for (const f of s.chain) {
    if (!/perf-\d+\.map/.test(f.dso)) continue;
    const m = /^JSC-(\w+): (.*?)(#\w+)?$/.exec(f.sym);
    if (!m || /Thunk|InlineCache/.test(m[1]!)) continue; // trampolines and stubs: their caller says more
    return m[2] || "(anonymous)";
  }
  return /perf-\d+\.map/.test(s.chain.map((f) => f.dso).join(" ")) ? "(stubs only)" : "(no JavaScript on the stack)";
}

function threadKind(comm: string, pid: number, tid: number): string {
  if (tid === pid) return "main";
  if (comm === "Worker") return "SHA-1 worker";
  if (comm.startsWith("Bun Pool")) return "I/O (Bun Pool)";
  if (comm === "JITWorker") return "JIT";
  if (comm === "HeapHelper" || comm.includes("ollector")) return "GC";
  return comm;
}

interface Run {
  run: number;
  window: { start: number; end: number };
  seconds: number;
  mbps: number;
  perf: string | null;
  seederPid: number;
  leecherPid: number;
}

/** One run's samples in its window, counted under keys `section\tprocess\t...`, in ms per GiB. */
function countRun(r: Run): Map<string, number> {
  const text = Bun.spawnSync(["perf", "script", "-i", r.perf!, "-F", "comm,pid,tid,time,ip,sym,dso"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  const gib = (r.mbps * 1e6 * r.seconds) / GiB;
  const msPerSample = 1000 / HZ / gib;
  const who = new Map([
    [r.seederPid, "seeder"],
    [r.leecherPid, "leecher"],
  ]);
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + msPerSample);
  for (const s of samples(text)) {
    if (s.time < r.window.start || s.time > r.window.end) continue;
    const idle = s.pid === 0;
    const proc = who.get(s.pid);
    if (s.chain.some((f) => /^(handle_softirqs|net_rx_action)$/.test(f.sym))) add(`machine softirq\t${proc ?? (idle ? "idle task" : "other processes")}`);
    if (!proc) {
      add(`machine\t${idle ? "idle" : "other processes"}`);
      continue;
    }
    const kind = threadKind(s.comm, s.pid, s.tid);
    add(`thread\t${proc}\t${kind}`);
    if (kind === "main") {
      add(`main\t${proc}\t${category(s)}`);
      add(`syscall\t${proc}\t${syscall(s)}`);
      const js = nearestFunction(s);
      if (js) add(`js\t${proc}\t${js}`);
    } else add(`other thread\t${proc}\t${kind}\t${category(s)}`);
  }
  return counts;
}

const runs = fs
  .readFileSync(runsFile, "utf8")
  .split("\n")
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as Run)
  .filter((r) => r.perf);
const columns = runs.map(countRun);
const keys = [...new Set(columns.flatMap((c) => [...c.keys()]))];
const total = (k: string) => columns.reduce((sum, c) => sum + (c.get(k) ?? 0), 0);
const group = (k: string) => k.split("\t").slice(0, 2).join("\t");
keys.sort((a, b) => group(a).localeCompare(group(b)) || total(b) - total(a));
console.log(`ms per GiB in the window of run ${runs.map((r) => `${r.run} (${r.mbps.toFixed(0)} MB/s)`).join(", ")}; rows under 3 ms in every run left out`);
for (const k of keys) {
  const values = columns.map((c) => Math.round(c.get(k) ?? 0));
  if (Math.max(...values) >= 3) console.log(`${k.replaceAll("\t", " | ")} | ${values.join(" / ")}`);
}
