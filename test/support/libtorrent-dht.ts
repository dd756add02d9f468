// A libtorrent DHT node (libtorrent/lt_dht.py under Debian's python3-libtorrent) as a handle: JSON
// commands in on stdin, JSON events out. Loopback only; killed when the test process exits.
import path from "node:path";
import { DEBIAN_PYTHON } from "./system.ts";

const SCRIPT = path.join(import.meta.dir, "libtorrent", "lt_dht.py");

export interface LtDhtEvent {
  event: string;
  [field: string]: unknown;
}

export interface LtDht {
  /** Its DHT's UDP port on 127.0.0.1. */
  port: number;
  readonly events: LtDhtEvent[];
  send(command: Record<string, unknown>): void;
  /** The first event (past or future) matching, or a rejection with its output after `timeoutMs`. */
  waitFor(predicate: (e: LtDhtEvent) => boolean, timeoutMs?: number): Promise<LtDhtEvent>;
  stop(): Promise<void>;
}

const running = new Set<{ kill(signal?: number): void }>();
process.on("exit", () => running.forEach((p) => p.kill(9)));

export async function startLtDht(bootstrap: string[]): Promise<LtDht> {
  const proc = Bun.spawn([DEBIAN_PYTHON, SCRIPT, ...bootstrap.flatMap((b) => ["--bootstrap", b]), "--max-life", "300"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  const events: LtDhtEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("{")) events.push(JSON.parse(line) as LtDhtEvent);
      }
      waiters.forEach((w) => w());
    }
  })();
  void new Response(proc.stderr).text().then((t) => (stderr = t));
  const waitFor = (predicate: (e: LtDhtEvent) => boolean, timeoutMs = 30_000) =>
    new Promise<LtDhtEvent>((resolve, reject) => {
      const check = () => {
        const hit = events.find(predicate);
        if (!hit) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`lt_dht: no matching event in ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-20))}; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const listening = await waitFor((e) => e.event === "listening" || e.event === "error");
  if (listening.event === "error") throw new Error(`lt_dht: ${String(listening.message)}`);
  return {
    port: listening.port as number,
    events,
    send(command) {
      proc.stdin.write(`${JSON.stringify(command)}\n`);
      proc.stdin.flush();
    },
    waitFor,
    async stop() {
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill(9), 3000);
      await proc.exited;
      clearTimeout(timer);
      running.delete(proc);
    },
  };
}
