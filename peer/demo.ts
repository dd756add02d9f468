// `npm run demo`: the whole system on one machine. Starts the tracker (embedded memory store) as a child
// process, makes a torrent of a generated sample, runs one btpeer seeder and three btpeer leechers (all
// from source), shows their progress side by side from their --json events, checks every copy by
// SHA-256, stops everything and exits 0. Bounded in time; any failure ends it with one clear line.
import type { Subprocess } from "bun";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createTorrentFromDisk } from "./files/create-from-disk.ts";
import { formatBytes } from "./cli/progress.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const SAMPLE_BYTES = 64 * 1024 * 1024;
const LEECHERS = 3;
const DEADLINE_MS = 180_000;

interface Child {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  lines: string[];
  last: Record<string, unknown>;
  completed: boolean;
  stderr: string;
}

const children: Child[] = [];

function spawn(name: string, cmd: string[], env: Record<string, string> = {}): Child {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const child: Child = { name, proc, lines: [], last: {}, completed: false, stderr: "" };
  children.push(child);
  void (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of proc.stdout) {
      partial += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        child.lines.push(line);
        if (!line.startsWith("{")) continue;
        try {
          const event = JSON.parse(line) as Record<string, unknown>;
          if (event.event === "completed") child.completed = true;
          if (event.event === "progress" || event.event === "started" || event.event === "completed") child.last = { ...child.last, ...event };
          if (event.event === "error") child.stderr += `${event.message}\n`;
        } catch {
          // not an event line
        }
      }
    }
  })();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) child.stderr += decoder.decode(chunk, { stream: true });
  })();
  return child;
}

function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, deadline: number): Promise<void> {
  while (!(await check())) {
    for (const c of children)
      if (c.proc.exitCode !== null && c.proc.exitCode !== 0)
        throw new Error(`${c.name} exited with code ${c.proc.exitCode}: ${c.stderr.trim() || c.lines.slice(-3).join(" ")}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function writeSample(file: string, size: number): void {
  const fd = fs.openSync(file, "w");
  const chunk = new Uint8Array(1024 * 1024);
  for (let written = 0; written < size; written += chunk.length) {
    for (let i = 0; i < chunk.length; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - written), written);
  }
  fs.closeSync(fd);
}

async function sha256(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(file).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

function table(isTTY: boolean, redraw: boolean): void {
  const rows = children
    .filter((c) => c.name !== "tracker")
    .map((c) => {
      const e = c.last;
      const pct =
        typeof e.percent === "number" ? e.percent : typeof e.have === "number" && typeof e.pieces === "number" ? (100 * e.have) / Math.max(1, e.pieces) : 0;
      const bar = "#".repeat(Math.round(pct / 5)).padEnd(20, ".");
      return `  ${c.name.padEnd(10)} [${bar}] ${pct.toFixed(1).padStart(5)}%  ↓ ${formatBytes(Number(e.downRate ?? 0)).padStart(10)}/s  ↑ ${formatBytes(Number(e.upRate ?? 0)).padStart(10)}/s  peers ${String(e.peers ?? 0).padStart(2)}  up total ${formatBytes(Number(e.uploaded ?? 0))}`;
    });
  if (isTTY && redraw) process.stdout.write(`\x1b[${rows.length}A`);
  for (const row of rows) process.stdout.write(`${isTTY ? "\x1b[2K" : ""}${row}\n`);
}

async function main(): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-demo-"));
  try {
    const port = freePort();
    console.log(`1. tracker: bun edge/adapter/bun.ts on 127.0.0.1:${port} (embedded memory store)`);
    const tracker = spawn("tracker", [process.execPath, "edge/adapter/bun.ts"], { PORT: String(port), HOST: "127.0.0.1" });
    const announce = `http://127.0.0.1:${port}/announce`;
    await until(
      "the tracker",
      async () => {
        try {
          await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
          return true;
        } catch {
          return tracker.proc.exitCode !== null && Promise.reject(new Error(`the tracker exited: ${tracker.stderr.trim()}`));
        }
      },
      deadline,
    );

    const src = path.join(work, "seeder");
    fs.mkdirSync(src);
    const sample = path.join(src, "sample.bin");
    writeSample(sample, SAMPLE_BYTES);
    const torrentFile = path.join(work, "sample.torrent");
    const { torrent, metainfo } = await createTorrentFromDisk(sample, { trackers: [[announce]], pieceLength: 256 * 1024 });
    fs.writeFileSync(torrentFile, torrent);
    console.log(`2. torrent: ${formatBytes(SAMPLE_BYTES)} of random data, ${metainfo.pieceCount} pieces, announce ${announce}`);

    console.log(`3. one seeder and ${LEECHERS} leechers (btpeer), peers found through the tracker:\n`);
    const cli = path.join(ROOT, "peer/cli.ts");
    spawn("seeder", [process.execPath, cli, "seed", torrentFile, "--dir", src, "--port", String(freePort()), "--no-dht", "--json"]);
    await until("the seeder to verify its data", () => children[1]!.lines.some((l) => l.includes('"event":"tracker"')), deadline);
    for (let i = 1; i <= LEECHERS; i++) {
      spawn(`leecher ${i}`, [
        process.execPath,
        cli,
        "download",
        torrentFile,
        "--out",
        path.join(work, `leecher${i}`),
        "--port",
        String(freePort()),
        "--no-dht",
        "--json",
      ]);
    }
    const isTTY = Boolean(process.stdout.isTTY);
    let drawn = false;
    const leechers = children.slice(2);
    let lastPrint = 0;
    await until(
      "the leechers to complete",
      () => {
        if (isTTY || Date.now() - lastPrint > 1000) {
          table(isTTY, drawn);
          drawn = true;
          lastPrint = Date.now();
          if (!isTTY) console.log("");
        }
        return leechers.every((c) => c.completed);
      },
      deadline,
    );
    await sleep(1100); // one more progress event each: final upload totals
    table(isTTY, drawn && isTTY);

    console.log(`\n4. verifying every copy by SHA-256`);
    const expected = await sha256(sample);
    for (let i = 1; i <= LEECHERS; i++) {
      const got = await sha256(path.join(work, `leecher${i}`, "sample.bin"));
      if (got !== expected) throw new Error(`leecher ${i}'s copy differs from the original`);
      console.log(`  leecher ${i}: ${got.slice(0, 16)}… matches`);
    }
    const shared = leechers.reduce((n, c) => n + Number(c.last.uploaded ?? 0), 0);
    console.log(`  the leechers uploaded ${formatBytes(shared)} to each other`);
  } finally {
    console.log(`\n5. stopping everything`);
    await stopAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function stopAll(): Promise<void> {
  for (const c of [...children].reverse()) if (c.proc.exitCode === null) c.proc.kill("SIGTERM");
  const timer = setTimeout(() => children.forEach((c) => c.proc.exitCode === null && c.proc.kill("SIGKILL")), 5000);
  await Promise.all(children.map((c) => c.proc.exited));
  clearTimeout(timer);
}

process.on("SIGINT", () => {
  void stopAll().then(() => process.exit(130));
});

try {
  await main();
  console.log("demo finished: all copies verified");
  process.exit(0);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
