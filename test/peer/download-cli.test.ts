// `btpeer download` as a user meets it: resuming after a hard kill without refetching verified pieces,
// refusing to write outside the output folder, clear errors with distinct exit codes, an upload limit
// that still serves whole downloads, and the compiled binary working with no node_modules beside it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { encode } from "../../shared/bencode.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { CLI, isEvent, makeTorrent, ROOT, startBtpeer, startPartialSeeder } from "./btpeer-harness.ts";

let dir = "";
let torrent = "";
let source = "";

beforeAll(async () => {
  dir = makeTempDir("btpeer-cli-");
  source = path.join(dir, "src", "data.bin");
  makeRandomFile(source, 4 * 1024 * 1024 + 777, 11);
  torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 64 * 1024 });
});

/** A closed UDP port on loopback: bound by the system's choice, noted, closed. */
async function closedUdpPort(): Promise<number> {
  const probe = await Bun.udpSocket({ hostname: "127.0.0.1" });
  const port = probe.port;
  probe.close();
  return port;
}

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

function runCli(args: string[], cmd: string[] = [process.execPath, CLI]) {
  const r = Bun.spawnSync([...cmd, ...args], { stdout: "pipe", stderr: "pipe", cwd: dir, timeout: 60_000 });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("btpeer download: resume", () => {
  test("after SIGKILL halfway, a second run reuses every verified piece and fetches only the rest", async () => {
    const meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
    // A real btpeer holding the first 40 of the 65 pieces, held to 512 KiB/s: the first run can never
    // complete, whenever the kill lands (with the whole torrent at that rate, it had about 6 s).
    const slow = await startPartialSeeder(torrent, source, {
      pieceLength: 64 * 1024,
      pieces: 40,
      dir: path.join(dir, "partial"),
      args: ["--upload-limit", "512K"],
    });
    const out = path.join(dir, "resume");
    try {
      const first = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", slow.address], { name: "first run" });
      await first.waitFor((e) => e.event === "progress" && Number(e.have) >= meta.pieceCount * 0.3 && Number(e.have) < meta.pieceCount, 60_000);
      first.service.proc.kill("SIGKILL");
      await first.service.exited;
    } finally {
      await slow.stop();
    }
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "seeder" });
    try {
      const second = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "second run" });
      const started = second.events().find(isEvent("started"))!;
      const resumed = Number(started.resumedPieces);
      expect(resumed).toBeGreaterThan(0);
      expect(resumed).toBeLessThan(meta.pieceCount);
      const done = await second.waitFor(isEvent("completed"), 60_000);
      expect(done.fetchedPieces).toBe(meta.pieceCount - resumed); // no verified piece fetched twice
      expect(done.have).toBe(meta.pieceCount);
      expect(await second.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
    } finally {
      await seeder.stop();
    }
  }, 150_000);
});

describe("btpeer download: path safety", () => {
  test("a torrent whose file paths climb out of the output folder writes nothing outside it", async () => {
    const hostileDir = path.join(dir, "path-safety");
    const out = path.join(hostileDir, "out");
    fs.mkdirSync(out, { recursive: true });
    const pieceLength = 16384;
    const info = {
      name: "evil",
      "piece length": pieceLength,
      pieces: new Uint8Array(20 * 2),
      files: [
        { length: 10000, path: ["..", "..", "escaped.txt"] },
        { length: 10000, path: ["/tmp", "absolute.txt"] },
        { length: 10000, path: ["sub", "..", "..", "..", "up.txt"] },
      ],
    };
    const file = path.join(hostileDir, "evil.torrent");
    fs.writeFileSync(file, encode({ announce: "http://127.0.0.1:1/announce", info }));
    const before = new Set(fs.readdirSync(dir));
    const r = runCli(["download", file, "--out", out, "--no-seed", "--json", "--port", "0"]);
    // Whether refused as a bad torrent or stored under sanitised names, nothing may land outside `out`.
    expect(r.code).not.toBe(0);
    expect(fs.readdirSync(hostileDir).sort()).toEqual(["evil.torrent", "out"]);
    expect(new Set(fs.readdirSync(dir))).toEqual(before);
    expect(fs.existsSync("/tmp/absolute.txt") && fs.statSync("/tmp/absolute.txt").mtimeMs > Date.now() - 60_000).toBe(false);
  });
});

describe("btpeer download: errors", () => {
  test("a file that is not a torrent gives one clear line and exit code 3", () => {
    const bad = path.join(dir, "not-a.torrent");
    fs.writeFileSync(bad, "hello");
    const r = runCli(["download", bad, "--out", path.join(dir, "x")]);
    expect(r.code).toBe(3);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain("not a valid torrent");
  });

  test("a port already in use gives exit code 5", () => {
    const port = freePort();
    const holder = Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } });
    try {
      const r = runCli(["download", torrent, "--out", path.join(dir, "busy"), "--port", String(port), "--peer", "127.0.0.1:1"]);
      expect(r.code).toBe(5);
      expect(r.err).toContain("already in use");
    } finally {
      holder.stop(true);
    }
  });

  // The only tracker refuses (a closed loopback port: ECONNREFUSED for HTTP's connect, ICMP port unreachable
  // for UDP's datagram) and nothing else can give a peer: exit 6 with one line naming the tracker, the
  // refusal and what to do next. With the DHT on, the tests' BTPEER_DHT_LOOPBACK_ONLY=1 leaves the public
  // routers unasked, so its join finds no node at once.
  test.each([
    ["http", "--no-dht"],
    ["udp", "--no-dht"],
    ["http", "a DHT that finds no node"],
    ["udp", "a DHT that finds no node"],
  ])("the only tracker (%s) refuses the connection, no peer, %s: exit code 6 and a line saying what to do", async (scheme, dht) => {
    const port = scheme === "udp" ? await closedUdpPort() : freePort();
    const url = `${scheme}://127.0.0.1:${port}/announce`;
    const name = `refused-${scheme}-${dht === "--no-dht" ? "nodht" : "dht"}`;
    const t = await makeTorrent(source, path.join(dir, `${name}.torrent`), { pieceLength: 64 * 1024, trackers: [url] });
    const r = runCli(["download", t, "--out", path.join(dir, name), "--port", "0", ...(dht === "--no-dht" ? ["--no-dht"] : [])]);
    expect(r.code).toBe(6);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("btpeer: no peer can be found: no tracker answered");
    expect(lines[0]).toContain(`${url}: 127.0.0.1:${port}: connection refused`);
    expect(lines[0]).toContain("To go on: check that the tracker is up");
    expect(lines[0]).toContain("--peer host:port");
  });

  test("an output folder that cannot be created gives exit code 4", () => {
    const blocker = path.join(dir, "a-file");
    fs.writeFileSync(blocker, "x");
    const r = runCli(["download", torrent, "--out", path.join(blocker, "sub"), "--port", "0", "--peer", "127.0.0.1:1"]);
    expect(r.code).toBe(4);
    expect(r.err.trim().split("\n")).toHaveLength(1);
  });
});

describe("btpeer --upload-limit", () => {
  test("a seeder with an upload limit says so when it starts and still serves a complete, verified download", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source), "--upload-limit", "2M"], { name: "capped seeder" });
    try {
      expect(seeder.events().find(isEvent("started"))!.uploadLimit).toBe(2 * 1024 * 1024);
      const out = path.join(dir, "capped");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "leecher" });
      expect(leecher.events().find(isEvent("started"))!.uploadLimit).toBeNull();
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
    } finally {
      await seeder.stop();
    }
  });

  test("a limit that is not a rate is a usage error (exit code 2) naming the option", () => {
    const r = runCli(["seed", torrent, "--dir", path.dirname(source), "--upload-limit", "fast"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--upload-limit wants bytes per second");
  });
});

describe("dist/btpeer", () => {
  test("the compiled binary downloads a torrent with no node_modules beside it", async () => {
    const bin = path.join(dir, "bin", "btpeer");
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    const built = path.join(ROOT, "dist", "btpeer");
    if (fs.existsSync(built)) fs.copyFileSync(built, bin);
    else {
      const r = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", path.join(ROOT, "peer/cli.ts"), "--outfile", bin], {
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(r.exitCode).toBe(0);
    }
    fs.chmodSync(bin, 0o755);
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "binary seeder", binary: bin, cwd: path.dirname(bin) });
    try {
      const out = path.join(dir, "from-binary");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], {
        name: "binary leecher",
        binary: bin,
        cwd: path.dirname(bin),
      });
      await leecher.waitFor(isEvent("completed"), 60_000);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 120_000);
});
