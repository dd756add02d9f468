// btpeer create / info as a user runs them: real files in a temp folder, the CLI from source.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runBtpeer } from "./support/btpeer.ts";
import { makeRandomFile } from "./support/files.ts";

const TRACKER = "http://127.0.0.1:9/announce";
let work = "";

interface InfoJson {
  infoHash: string;
  name: string | null;
  length: number | null;
  pieceLength: number | null;
  pieces: number | null;
  files: { path: string; length: number }[];
  announce: string[];
  announceList: string[][];
  urlList: string[];
  private: boolean | null;
  comment?: string;
  creationDate?: number;
  peers?: string[];
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-cli-"));
  makeRandomFile(path.join(work, "folder", "sub", "b.bin"), 100_000, 1);
  makeRandomFile(path.join(work, "folder", "a.bin"), 50_000, 2);
  fs.symlinkSync("a.bin", path.join(work, "folder", "link-to-a"));
  makeRandomFile(path.join(work, "one.bin"), 70_000, 3);
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const at = (name: string) => path.join(work, name);

async function info(target: string): Promise<InfoJson> {
  const r = await runBtpeer(["info", "--json", target]);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as InfoJson;
}

describe("btpeer create", () => {
  test("makes a folder torrent that info reads back with every option", async () => {
    const out = at("folder.torrent");
    const r = await runBtpeer([
      "create",
      at("folder"),
      "--tracker",
      TRACKER,
      "--tracker",
      "http://127.0.0.1:10/a,http://127.0.0.1:11/b",
      "--piece-length",
      "16384",
      "--private",
      "--comment",
      "hello",
      "--web-seed",
      "http://127.0.0.1:12/ws/",
      "-o",
      out,
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`created ${out}`);
    const json = await info(out);
    expect(json.name).toBe("folder");
    expect(json.length).toBe(150_000);
    expect(json.pieceLength).toBe(16384);
    expect(json.pieces).toBe(Math.ceil(150_000 / 16384));
    expect(json.files).toEqual([
      { path: "folder/a.bin", length: 50_000 },
      { path: "folder/sub/b.bin", length: 100_000 },
    ]);
    expect(json.announce).toEqual([TRACKER, "http://127.0.0.1:10/a", "http://127.0.0.1:11/b"]);
    expect(json.announceList).toEqual([[TRACKER], ["http://127.0.0.1:10/a", "http://127.0.0.1:11/b"]]);
    expect(json.urlList).toEqual(["http://127.0.0.1:12/ws/"]);
    expect(json.private).toBe(true);
    expect(json.comment).toBe("hello");
    expect(r.stdout).toContain(json.infoHash);
  });

  test("says which entries it skipped, never silently", async () => {
    const r = await runBtpeer(["create", at("folder"), "-o", at("skips.torrent")]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`skipped ${at("folder/link-to-a")} (symbolic link)`);
  });

  test("writes the SHA-1 of each piece of a single file", async () => {
    const out = at("one.torrent");
    expect((await runBtpeer(["create", at("one.bin"), "-l", "32K", "-t", TRACKER, "-o", out])).exitCode).toBe(0);
    const data = fs.readFileSync(at("one.bin"));
    const torrent = fs.readFileSync(out);
    const marker = Buffer.from("6:pieces60:");
    const start = torrent.indexOf(marker) + marker.length;
    for (let i = 0; i < 3; i++) {
      const expected = createHash("sha1")
        .update(data.subarray(i * 32768, (i + 1) * 32768))
        .digest();
      expect(Buffer.from(torrent.subarray(start + i * 20, start + i * 20 + 20))).toEqual(expected);
    }
    const json = await info(out);
    expect(json.files).toEqual([{ path: "one.bin", length: 70_000 }]);
  });

  test("gives the same info hash for the same data, and no creation date with --no-date", async () => {
    const a = at("same-a.torrent");
    const b = at("same-b.torrent");
    await runBtpeer(["create", at("folder"), "--no-date", "-o", a]);
    await runBtpeer(["create", at("folder"), "--no-date", "-o", b]);
    expect(fs.readFileSync(a)).toEqual(fs.readFileSync(b));
    expect((await info(a)).creationDate).toBeUndefined();
  });

  test("chooses a piece length by itself", async () => {
    const out = at("auto.torrent");
    expect((await runBtpeer(["create", at("one.bin"), "-o", out])).exitCode).toBe(0);
    expect((await info(out)).pieceLength).toBe(16384);
  });

  test("prints no progress when stderr is not a terminal", async () => {
    const r = await runBtpeer(["create", at("one.bin"), "-t", TRACKER, "-o", at("quiet.torrent")]);
    expect(r.stderr).toBe("");
  });

  test("refuses to overwrite an existing file without --force", async () => {
    const out = at("exists.torrent");
    fs.writeFileSync(out, "keep me");
    const r = await runBtpeer(["create", at("one.bin"), "-o", out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--force");
    expect(fs.readFileSync(out, "utf8")).toBe("keep me");
    expect((await runBtpeer(["create", at("one.bin"), "-o", out, "--force"])).exitCode).toBe(0);
  });

  for (const [label, args, code, message] of [
    ["a missing input", ["create", "/nonexistent/xyz", "-o", "/nonexistent/x.torrent"], 1, "does not exist"],
    ["a piece length that is not a power of two", ["create", "ONE", "-l", "100000", "-o", "OUT"], 1, "power of two"],
    ["a piece length that is not a size", ["create", "ONE", "-l", "big", "-o", "OUT"], 2, "not a size"],
    ["a tracker that is not a URL", ["create", "ONE", "-t", "nope", "-o", "OUT"], 1, "is not a URL"],
    ["an unknown option", ["create", "ONE", "--bogus"], 2, "Unknown option"],
    ["no input", ["create"], 2, "exactly one file or folder"],
  ] as const) {
    test(`fails with a clear message and non-zero exit on ${label}`, async () => {
      const args2 = args.map((a) => (a === "ONE" ? at("one.bin") : a === "OUT" ? at(`bad-${label.length}.torrent`) : a));
      const r = await runBtpeer(args2);
      expect(r.exitCode).toBe(code);
      expect(r.stderr.split("\n")[0]).toContain(message);
      expect(r.stderr.startsWith("btpeer create: ")).toBe(true);
    });
  }

  test("fails on an empty folder", async () => {
    fs.mkdirSync(at("empty-folder"));
    const r = await runBtpeer(["create", at("empty-folder"), "-o", at("empty.torrent")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("no files");
  });
});

describe("btpeer info", () => {
  test("prints a readable summary", async () => {
    const out = at("summary.torrent");
    await runBtpeer(["create", at("folder"), "-t", TRACKER, "-l", "16K", "-o", out]);
    const r = await runBtpeer(["info", out]);
    expect(r.exitCode).toBe(0);
    for (const text of ["name", "folder", "info hash", "146.5 KiB (150000 bytes)", "10 × 16.0 KiB", `tier 1: ${TRACKER}`, "folder/sub/b.bin"]) {
      expect(r.stdout).toContain(text);
    }
  });

  test("reads a magnet link", async () => {
    const hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    const json = await info(`magnet:?xt=urn:btih:${hash}&dn=Some+Name&tr=${encodeURIComponent(TRACKER)}&x.pe=127.0.0.1:6881`);
    expect(json).toMatchObject({ infoHash: hash, name: "Some Name", length: null, pieces: null, files: [], announce: [TRACKER], peers: ["127.0.0.1:6881"] });
  });

  test("fails with one clear line on a file that is not a torrent", async () => {
    fs.writeFileSync(at("junk.torrent"), "d4:infod4:name");
    const r = await runBtpeer(["info", at("junk.torrent")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("not a valid .torrent file");
    expect(r.stderr).toContain("at byte");
  });

  test("fails with one clear line on a torrent with an unsafe path", async () => {
    const evil = `d4:infod5:filesld6:lengthi1e4:pathl2:..6:passwdeee4:name1:x12:piece lengthi16384e6:pieces20:${"\0".repeat(20)}ee`;
    fs.writeFileSync(at("evil.torrent"), evil);
    const r = await runBtpeer(["info", at("evil.torrent")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("refusing to load");
  });

  test("fails on a missing file and on a bad magnet link", async () => {
    const missing = await runBtpeer(["info", at("missing.torrent")]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("no such file");
    const magnet = await runBtpeer(["info", "magnet:?xt=urn:btih:123"]);
    expect(magnet.exitCode).toBe(1);
    expect(magnet.stderr).toContain("not an info hash");
  });
});
