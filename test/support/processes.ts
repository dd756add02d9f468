// Child processes for integration tests and benchmarks: started, awaited until ready, stopped for sure.
// Every service is registered until it exits, and whatever is still running when this process exits
// is killed, so a failing test never leaves a tracker or a peer behind.
import type { Subprocess } from "bun";
import { readdirSync, readFileSync } from "node:fs";

export type Readiness = { port: number; host?: string } | { line: RegExp } | { url: string };

export interface ServiceOptions {
  /** Shown in errors and output dumps. */
  name: string;
  cmd: string[];
  cwd?: string;
  /** Added to (and overriding) the current environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  ready?: Readiness;
  /** How long to wait for readiness before giving up (default 30 s). */
  readyTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL in `stop()` (default 3 s). */
  graceMs?: number;
}

export interface Service {
  readonly name: string;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly pid: number;
  /** Every complete stdout line so far, in order. */
  readonly lines: string[];
  /** Every complete stderr line so far, in order. */
  readonly errLines: string[];
  /** Resolves with the exit code (or the signal number + 128) when the process ends. */
  readonly exited: Promise<number>;
  /** True once the process has ended. */
  readonly hasExited: boolean;
  /** The last part of stdout and stderr, for error messages. */
  output(): string;
  /** The first stdout line (past or future) that matches; rejects on exit or timeout, with the output. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after the grace period; resolves with the exit code. Safe to call twice. */
  stop(): Promise<number>;
}

const OUTPUT_CAP = 64 * 1024;
const live = new Set<Service>();

/** The pids of every process below `root` (npm's `deno` and `wrangler` bins are Node wrappers whose real
 *  server is a grandchild: signalling only the wrapper would leave it running, holding our pipes). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return []; // no /proc (not Linux): only the direct child is signalled
  }
  for (const name of entries) {
    try {
      // Fields after the command name, which is in parentheses and may contain spaces.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function signalTree(pids: number[], signal: "SIGTERM" | "SIGKILL"): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function killAllNow(): void {
  for (const s of live) signalTree([s.pid, ...descendants(s.pid)], "SIGKILL");
  live.clear();
}

process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  });
}

/** Stops every service still running (for afterAll hooks that did not keep handles). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
}

class OutputTail {
  private text = "";
  add(chunk: string): void {
    this.text += chunk;
    if (this.text.length > OUTPUT_CAP) this.text = this.text.slice(this.text.length - OUTPUT_CAP);
  }
  toString(): string {
    return this.text;
  }
}

export class ServiceError extends Error {
  readonly code: "not-ready" | "exited" | "timeout";
  constructor(code: "not-ready" | "exited" | "timeout", message: string) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
  }
}

/** Starts a process and waits until it is ready; the error on failure carries its output. */
export async function spawnService(options: ServiceOptions): Promise<Service> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn(options.cmd, {
    cwd: options.cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdoutTail = new OutputTail();
  const stderrTail = new OutputTail();
  const lines: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  let exited = false;
  const exitListeners = new Set<() => void>();

  const pumpStdout = (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of proc.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      stdoutTail.add(text);
      partial += text;
      let nl: number;
      while ((nl = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        lines.push(line);
        for (const l of lineListeners) l(line);
      }
    }
    if (partial) {
      lines.push(partial);
      for (const l of lineListeners) l(partial);
    }
  })();
  const errLines: string[] = [];
  const pumpStderr = (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      stderrTail.add(text);
      partial += text;
      const complete = partial.split("\n");
      partial = complete.pop()!;
      errLines.push(...complete);
    }
    if (partial) errLines.push(partial);
  })();

  let registered: Service | undefined;
  const exitedPromise = (async () => {
    const code = await proc.exited;
    // A grandchild that outlived its parent may hold the pipes open: read what is there, not forever.
    await Promise.race([Promise.allSettled([pumpStdout, pumpStderr]), Bun.sleep(1000)]);
    exited = true;
    if (registered) live.delete(registered);
    for (const l of exitListeners) l();
    return proc.signalCode ? 128 + (signalNumber(String(proc.signalCode)) ?? 0) : code;
  })();

  const output = () => `--- ${options.name} (${options.cmd.join(" ")}) stdout:\n${stdoutTail}\n--- ${options.name} stderr:\n${stderrTail}`;

  const waitForLine = (match: RegExp | ((line: string) => boolean), timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const test = typeof match === "function" ? match : (line: string) => match.test(line);
      const found = lines.find(test);
      if (found !== undefined) return resolve(found);
      if (exited) return reject(new ServiceError("exited", `${options.name} exited before printing ${String(match)}\n${output()}`));
      const cleanup = () => {
        clearTimeout(timer);
        lineListeners.delete(onLine);
        exitListeners.delete(onExit);
      };
      const onLine = (line: string) => {
        if (test(line)) {
          cleanup();
          resolve(line);
        }
      };
      const onExit = () => {
        cleanup();
        reject(new ServiceError("exited", `${options.name} exited (code ${proc.exitCode}) before printing ${String(match)}\n${output()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ServiceError("timeout", `${options.name} did not print ${String(match)} within ${timeoutMs} ms\n${output()}`));
      }, timeoutMs);
      lineListeners.add(onLine);
      exitListeners.add(onExit);
    });

  let stopping: Promise<number> | undefined;
  const stop = () => {
    if (!stopping) {
      stopping = (async () => {
        if (!exited) {
          const tree = [proc.pid, ...descendants(proc.pid)];
          signalTree(tree, "SIGTERM");
          const grace = options.graceMs ?? 3000;
          const timer = setTimeout(() => signalTree([...tree, ...descendants(proc.pid)], "SIGKILL"), grace);
          try {
            return await exitedPromise;
          } finally {
            clearTimeout(timer);
            signalTree(tree.slice(1), "SIGKILL"); // grandchildren that outlived the wrapper we signalled
          }
        }
        return exitedPromise;
      })();
    }
    return stopping;
  };

  const service: Service = {
    name: options.name,
    proc,
    pid: proc.pid,
    lines,
    errLines,
    exited: exitedPromise,
    get hasExited() {
      return exited;
    },
    output,
    waitForLine,
    stop,
  };
  registered = service;
  if (!exited) live.add(service);

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  try {
    const r = options.ready;
    if (r && "line" in r) await waitForLine(r.line, timeoutMs);
    else if (r && "port" in r) await raceExit(waitForPort(r.port, r.host ?? "127.0.0.1", timeoutMs), service);
    else if (r && "url" in r) await raceExit(waitForUrl(r.url, timeoutMs), service);
  } catch (e) {
    await stop();
    const why = e instanceof Error ? e.message : String(e);
    throw new ServiceError("not-ready", `${options.name} did not become ready: ${why}\n${why.includes("--- ") ? "" : output()}`);
  }
  return service;
}

async function raceExit<T>(p: Promise<T>, service: Service): Promise<T> {
  return Promise.race([
    p,
    service.exited.then((code) => {
      throw new ServiceError("exited", `exited with code ${code} while starting`);
    }),
  ]);
}

function signalNumber(name: string): number | undefined {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };
  return table[name];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({
        hostname: host,
        port,
        socket: {
          open(s) {
            s.end();
            resolve(true);
          },
          connectError() {
            resolve(false);
          },
          data() {},
        },
      }).catch(() => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new ServiceError("timeout", `nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Resolves with the first HTTP response (any status) from url. */
export async function waitForUrl(url: string, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2000) });
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new ServiceError("timeout", `${url} did not answer within ${timeoutMs} ms (${last})`);
    await sleep(100);
  }
}

export { makeRandomFile, sha1File, sha256File, sha256Tree, makeTempDir, removeDir } from "./files.ts";
