// Web seeds (BEP 19) with the real binary: dist/btpeer downloads from a range-capable HTTP server run by
// this test on 127.0.0.1 (test/peer/web-seed-server.ts), with no peer at all for single- and multi-file
// layouts, and beside real btpeer peers when the server is broken: a corrupt file (its pieces fail and
// come from a peer, the rest from the web seed), a server ignoring ranges, 404, 500, short bodies and a
// slow loris. Every download is checked byte for byte against the source.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { type Btpeer, type BtpeerEvent, isEvent, ROOT, startBtpeer } from "./btpeer-harness.ts";
import { startWebSeedServer, type WebSeedServer } from "./web-seed-server.ts";

const PIECE = 64 * 1024;
let dir = "";
let binary = "";

/** dist/btpeer (npm test builds it first), or a fresh build of it here. */
function btpeerBinary(): string {
  const built = path.join(ROOT, "dist", "btpeer");
  if (fs.existsSync(built)) return built;
  const out = path.join(dir, "bin", "btpeer");
  const r = Bun.spawnSync(["bun", "run", "build", "--outfile", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr.toString()}`);
  return out;
}

beforeAll(() => {
  dir = makeTempDir("btpeer-webseed-");
  binary = btpeerBinary();
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** A torrent of `source` with these web seeds (none: the same info hash without `url-list`). */
async function torrentOf(source: string, webSeeds: string[], name: string): Promise<string> {
  const { torrent } = await createTorrentFromDisk(source, { pieceLength: PIECE, webSeeds, creationDate: null });
  const file = path.join(dir, `${name}.torrent`);
  fs.writeFileSync(file, torrent);
  return file;
}

/** The files of `root` as the server's map: path relative to `prefix`'s parent ("name/sub/file") → bytes. */
function filesBelow(root: string, top: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.set(path.relative(top, full).split(path.sep).join("/"), new Uint8Array(fs.readFileSync(full)));
    }
  };
  walk(root);
  return out;
}

async function expectSameFiles(source: string, copy: string): Promise<void> {
  const files = [...filesBelow(source, source).keys()];
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(await sha256File(path.join(copy, f))).toBe(await sha256File(path.join(source, f)));
}

function download(torrent: string, out: string, extra: string[], name: string, port?: number): Promise<Btpeer> {
  return startBtpeer(["download", torrent, "--out", out, "--no-seed", ...extra], { name, binary, ...(port ? { port } : {}) });
}

const webseedEvents = (peer: Btpeer, code?: string) => peer.events().filter((e) => e.event === "webseed" && (code === undefined || e.code === code));

describe("web seeds alone (no peer)", () => {
  let server: WebSeedServer;
  let single = "";
  let multi = "";

  beforeAll(() => {
    single = path.join(dir, "single");
    makeRandomFile(path.join(single, "one file #1.bin"), 1024 * 1024 + 4321, 31);
    multi = path.join(dir, "multi", "the set");
    makeRandomFile(path.join(multi, "a.bin"), 300 * 1024 + 5, 32);
    makeRandomFile(path.join(multi, "sub dir", "b?x.bin"), 700 * 1024 + 99, 33);
    makeRandomFile(path.join(multi, "z", "ünï.bin"), 40 * 1024, 34);
    server = startWebSeedServer(new Map([...filesBelow(single, single), ...filesBelow(multi, path.dirname(multi))]));
  });
  afterAll(() => server.stop());

  test("single file: a URL ending in / gets the name appended; bodies longer than the range are cut", async () => {
    const torrent = await torrentOf(path.join(single, "one file #1.bin"), [server.url("long")], "single");
    const out = path.join(dir, "single-out");
    const leecher = await download(torrent, out, [], "single leecher");
    expect(leecher.events().find(isEvent("started"))!.webSeeds).toEqual([server.url("long")]);
    const done = await leecher.waitFor(isEvent("completed"), 90_000);
    expect(done.fetchedPieces).toBe(done.pieces);
    expect(await leecher.service.exited).toBe(0);
    await expectSameFiles(single, out);
    expect(leecher.events().filter(isEvent("piece-failed"))).toEqual([]);
    expect(server.served.get("one file #1.bin")).toBe(1024 * 1024 + 4321); // every byte asked once, none twice
  }, 120_000);

  test("multi-file: URL/name/path, percent-encoded per component, through a redirect", async () => {
    const base = server.url("r").slice(0, -1); // no trailing slash: "/" is added before the name
    const torrent = await torrentOf(multi, [base], "multi");
    const out = path.join(dir, "multi-out");
    const leecher = await download(torrent, out, [], "multi leecher");
    await leecher.waitFor(isEvent("completed"), 90_000);
    expect(await leecher.service.exited).toBe(0);
    await expectSameFiles(path.dirname(multi), out);
    expect(webseedEvents(leecher)).toEqual([]);
    expect(server.log.some((l) => l.startsWith("r 302 the set/sub dir/b?x.bin"))).toBe(true);
    expect(server.log.some((l) => l.startsWith("files 206 the set/z/ünï.bin"))).toBe(true);
  }, 120_000);
});

describe("web seeds beside peers", () => {
  test("a web seed with one corrupt file: its pieces fail and come from a peer, the rest from the web seed", async () => {
    const source = path.join(dir, "corrupt", "set");
    // Piece-aligned files, so no piece mixes the corrupt file with a good one.
    makeRandomFile(path.join(source, "a.bin"), 10 * PIECE, 41);
    makeRandomFile(path.join(source, "b.bin"), 8 * PIECE, 42);
    makeRandomFile(path.join(source, "c.bin"), 6 * PIECE + 777, 43);
    const files = filesBelow(source, path.dirname(source));
    const bad = files.get("set/b.bin")!.slice();
    for (let i = 100; i < bad.length; i += 4096) bad[i]! ^= 0x5a;
    files.set("set/b.bin", bad);
    const server = startWebSeedServer(files);
    try {
      const torrent = await torrentOf(source, [server.url("files")], "corrupt");
      const leecherPort = freePort();
      const out = path.join(dir, "corrupt-out");
      const leecher = await download(torrent, out, [], "corrupt leecher", leecherPort);
      // Everything but b.bin's 8 pieces comes from the web seed, and b.bin is refused after its first bad piece.
      await leecher.waitFor((e) => e.event === "progress" && e.have === Number(e.pieces) - 8, 90_000);
      const failed = leecher.events().filter(isEvent("piece-failed"));
      expect(failed.length).toBeGreaterThan(0);
      for (const e of failed) {
        expect(e.peers).toEqual([server.url("files")]);
        expect(Number(e.index)).toBeGreaterThanOrEqual(10);
        expect(Number(e.index)).toBeLessThan(18);
      }
      expect(webseedEvents(leecher, "bad-data").length).toBeGreaterThan(0);
      expect(webseedEvents(leecher).some((e) => e.dropped)).toBe(false);
      // A real btpeer holding only b.bin (a torrent without url-list: same info hash) dials the leecher.
      const partial = path.join(dir, "corrupt-partial");
      fs.mkdirSync(path.join(partial, "set"), { recursive: true });
      fs.copyFileSync(path.join(source, "b.bin"), path.join(partial, "set", "b.bin"));
      const plain = await torrentOf(source, [], "corrupt-plain");
      const holder = await startBtpeer(["download", plain, "--out", partial, "--peer", `127.0.0.1:${leecherPort}`], { name: "b.bin holder", binary });
      try {
        const done = await leecher.waitFor(isEvent("completed"), 90_000);
        expect(done.have).toBe(done.pieces);
        expect(await leecher.service.exited).toBe(0);
        await expectSameFiles(path.dirname(source), out);
        expect(server.served.get("set/a.bin")).toBeGreaterThanOrEqual(10 * PIECE);
        expect(server.served.get("set/c.bin")).toBeGreaterThanOrEqual(6 * PIECE + 777);
      } finally {
        await holder.stop();
      }
      const stopped = holder.events().find(isEvent("stopped"))!;
      expect(Number(stopped.uploaded)).toBeGreaterThanOrEqual(8 * PIECE);
    } finally {
      server.stop();
    }
  }, 200_000);

  describe("broken servers", () => {
    let server: WebSeedServer;
    let source = "";
    let seeder: Btpeer;

    beforeAll(async () => {
      source = path.join(dir, "broken", "data.bin");
      makeRandomFile(source, 40 * PIECE + 1234, 51);
      server = startWebSeedServer(filesBelow(path.dirname(source), path.dirname(source)));
      const plain = await torrentOf(source, [], "broken-plain");
      seeder = await startBtpeer(["seed", plain, "--dir", path.dirname(source)], { name: "seeder", binary });
    });
    afterAll(async () => {
      await seeder.stop();
      server.stop();
    });

    const run = async (modes: Parameters<WebSeedServer["url"]>[0][], name: string): Promise<BtpeerEvent[]> => {
      const torrent = await torrentOf(
        source,
        modes.map((m) => server.url(m)),
        name,
      );
      const out = path.join(dir, `${name}-out`);
      const leecher = await download(torrent, out, ["--peer", seeder.address], name);
      const done = await leecher.waitFor(isEvent("completed"), 120_000);
      expect(done.have).toBe(done.pieces);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
      return leecher.events();
    };

    test("a server answering a range request with 200 and the whole file: used from byte 0 only, then dropped", async () => {
      const events = await run(["whole"], "whole");
      expect(server.log.some((l) => l.startsWith("whole 200 data.bin bytes=0-"))).toBe(true);
      const noRanges = events.filter((e) => e.event === "webseed" && e.code === "no-ranges");
      expect(noRanges.length).toBe(1);
      expect(noRanges[0]!.dropped).toBe(true);
      expect(events.filter(isEvent("piece-failed"))).toEqual([]);
    }, 150_000);

    test("404, 500, short bodies and a slow loris: each backs off or is dropped, the download completes from the peer", async () => {
      const events = await run(["404", "500", "short", "slow"], "failing");
      const by = (mode: string) => events.filter((e) => e.event === "webseed" && e.url === server.url(mode as never));
      expect(by("404").map((e) => [e.code, e.dropped])).toEqual([["file-refused", true]]); // its one file refused: nothing left
      expect(by("500").length).toBeGreaterThan(0);
      for (const e of by("500")) expect([e.code, Number(e.retryIn) > 0]).toEqual(["http-status", true]);
      expect(by("short").some((e) => e.code === "short-body" && Number(e.retryIn) > 0)).toBe(true);
      expect(by("slow").some((e) => e.code === "timeout" && Number(e.retryIn) > 0)).toBe(true);
      expect(events.filter(isEvent("piece-failed"))).toEqual([]); // no bad byte reached a piece check
    }, 150_000);
  });
});
