// Our .torrent code against the rest of the BitTorrent world: torrents made by mktorrent,
// transmission-create and libtorrent parse with our code to the info hash libtorrent computes, and
// torrents made by `btpeer create` load in libtorrent with the same info hash and piece hashes, and
// libtorrent's own check of the data passes every piece.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { toHex } from "../shared/bytes.ts";
import { parseMetainfo } from "../shared/metainfo/parse.ts";
import type { Metainfo } from "../shared/metainfo/types.ts";
import { runBtpeer } from "./support/btpeer.ts";
import { makeRandomFile } from "./support/files.ts";
import { DEBIAN_PYTHON, needs, PROGRAMS } from "./support/system.ts";

const TOOLS = path.join(import.meta.dir, "support", "libtorrent", "torrent_tools.py");
const KiB = 1024;
const MiB = 1024 * KiB;
const TRACKER = "http://127.0.0.1:9/announce"; // loopback, nothing listens: no traffic leaves the machine

interface LtInfo {
  infoHash: string;
  name: string;
  pieceLength: number;
  numPieces: number;
  totalSize: number;
  pieceHashes: string[];
  files: { path: string; length: number; pad: boolean }[];
  trackers: string[][];
}
interface LtCheck {
  numPieces: number;
  piecesPassed: number;
  seeding: boolean;
  checked: boolean;
  error: string | null;
}

function run(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}
const lt = <T>(...args: string[]): T => JSON.parse(run([DEBIAN_PYTHON, TOOLS, ...args])) as T;

let work = "";
const sources: Record<"single" | "multi" | "unicode", string> = { single: "", multi: "", unicode: "" };

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-interop-"));
  // Sizes on purpose not multiples of any piece length; one zero-length file; nested and unicode names.
  sources.single = path.join(work, "data", "single.bin");
  makeRandomFile(sources.single, 3 * MiB + 12_345, 1);
  sources.multi = path.join(work, "data", "multi");
  makeRandomFile(path.join(sources.multi, "a", "b", "deep.bin"), 1 * MiB + 7, 2);
  makeRandomFile(path.join(sources.multi, "a", "note.txt"), 5, 3);
  fs.writeFileSync(path.join(sources.multi, "empty.dat"), "");
  makeRandomFile(path.join(sources.multi, "ünïcødé 名前", "файл.bin"), 70_001, 4);
  makeRandomFile(path.join(sources.multi, "z.bin"), 600_000, 5);
  sources.unicode = path.join(work, "data", "ñame — 日本語.bin");
  makeRandomFile(sources.unicode, 200_003, 6);
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

let counter = 0;
const torrentPath = (label: string) => path.join(work, `${label}-${++counter}.torrent`);

/** Our parse of a torrent agrees with libtorrent's view of it on everything that matters. */
function expectSameAsLibtorrent(meta: Metainfo, info: LtInfo): void {
  expect(toHex(meta.infoHash)).toBe(info.infoHash);
  expect(meta.name).toBe(info.name);
  expect(meta.pieceLength).toBe(info.pieceLength);
  expect(meta.pieceCount).toBe(info.numPieces);
  expect(meta.length).toBe(info.totalSize);
  const ours = Array.from({ length: meta.pieceCount }, (_, i) => toHex(meta.pieceHashes.subarray(i * 20, i * 20 + 20)));
  expect(ours).toEqual(info.pieceHashes);
  const prefix = meta.multiFile ? [meta.name] : [];
  expect(meta.files.map((f) => ({ path: [...prefix, ...f.path].join("/"), length: f.length, pad: f.padding === true }))).toEqual(info.files);
}

describe.skipIf(!needs(PROGRAMS.libtorrent, PROGRAMS.mktorrent))("torrents made by mktorrent", () => {
  for (const kind of ["single", "multi", "unicode"] as const) {
    for (const exp of [15, 20]) {
      test(`parse to libtorrent's info hash and pieces: ${kind}, piece length 2^${exp}`, () => {
        const out = torrentPath(`mktorrent-${kind}`);
        run(["mktorrent", "-l", String(exp), "-a", TRACKER, "-c", "made by mktorrent", "-o", out, sources[kind]]);
        const meta = parseMetainfo(fs.readFileSync(out));
        expectSameAsLibtorrent(meta, lt<LtInfo>("info", out));
        expect(meta.announceList).toEqual([[TRACKER]]);
        expect(meta.comment).toBe("made by mktorrent");
      });
    }
  }

  test("a private mktorrent torrent reads as private", () => {
    const out = torrentPath("mktorrent-private");
    run(["mktorrent", "-p", "-a", TRACKER, "-o", out, sources.single]);
    expect(parseMetainfo(fs.readFileSync(out)).private).toBe(true);
  });
});

describe.skipIf(!needs(PROGRAMS.libtorrent, PROGRAMS.transmission))("torrents made by transmission-create", () => {
  for (const kind of ["single", "multi", "unicode"] as const) {
    for (const kib of [16, 1024]) {
      test(`parse to libtorrent's info hash and pieces: ${kind}, piece length ${kib} KiB`, () => {
        const out = torrentPath(`transmission-${kind}`);
        run(["transmission-create", "-s", String(kib), "-t", TRACKER, "-c", "made by transmission", "-o", out, sources[kind]]);
        const meta = parseMetainfo(fs.readFileSync(out));
        expectSameAsLibtorrent(meta, lt<LtInfo>("info", out));
        expect(meta.announceList).toEqual([[TRACKER]]);
      });
    }
  }
});

describe.skipIf(!needs(PROGRAMS.libtorrent))("torrents made by libtorrent", () => {
  for (const kind of ["single", "multi", "unicode"] as const) {
    for (const variant of ["hybrid v1+v2 with padding files", "v1 only"]) {
      test(`parse to libtorrent's info hash and pieces: ${kind}, ${variant}`, () => {
        const out = torrentPath(`libtorrent-${kind}`);
        const extra = variant === "v1 only" ? ["--v1-only"] : [];
        lt("create", sources[kind], out, "--piece-length", String(64 * KiB), "--tracker", TRACKER, ...extra);
        const meta = parseMetainfo(fs.readFileSync(out));
        expectSameAsLibtorrent(meta, lt<LtInfo>("info", out));
        expect(meta.announceList).toEqual([[TRACKER]]);
      });
    }
  }
});

describe.skipIf(!needs(PROGRAMS.libtorrent))("torrents made by btpeer create, loaded in libtorrent", () => {
  const pieceLengths = [16 * KiB, 256 * KiB, 1 * MiB, 16 * MiB];
  for (const kind of ["single", "multi", "unicode"] as const) {
    for (const pieceLength of pieceLengths) {
      test(`same info hash and piece hashes, and libtorrent's check passes: ${kind}, piece length ${pieceLength / KiB} KiB`, async () => {
        const out = torrentPath(`btpeer-${kind}`);
        const r = await runBtpeer(["create", sources[kind], "-t", TRACKER, "-l", String(pieceLength), "-c", "made by btpeer", "-o", out]);
        expect(r.stderr).toBe("");
        expect(r.exitCode).toBe(0);
        const meta = parseMetainfo(fs.readFileSync(out));
        const info = lt<LtInfo>("info", out);
        expectSameAsLibtorrent(meta, info);
        expect(info.trackers).toEqual([[TRACKER]]);
        const check = lt<LtCheck>("check", out, path.dirname(sources[kind]));
        expect(check).toEqual({ numPieces: meta.pieceCount, piecesPassed: meta.pieceCount, seeding: true, checked: true, error: null });
      });
    }
  }

  test("libtorrent's check fails the piece whose data was changed (the check is real)", async () => {
    const copy = path.join(work, "tampered", "single.bin");
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.copyFileSync(sources.single, copy);
    const out = torrentPath("btpeer-tampered");
    expect((await runBtpeer(["create", copy, "-l", "256K", "-o", out])).exitCode).toBe(0);
    const fd = fs.openSync(copy, "r+");
    fs.writeSync(fd, new Uint8Array([0xaa ^ fs.readFileSync(copy)[300 * KiB]!]), 0, 1, 300 * KiB);
    fs.closeSync(fd);
    const check = lt<LtCheck>("check", out, path.dirname(copy));
    expect(check.piecesPassed).toBe(check.numPieces - 1);
    expect(check.seeding).toBe(false);
  });

  test("btpeer info --json reports libtorrent's info hash for a libtorrent torrent", async () => {
    const out = torrentPath("libtorrent-for-info");
    lt("create", sources.multi, out, "--piece-length", String(32 * KiB), "--tracker", TRACKER, "--v1-only");
    const r = await runBtpeer(["info", "--json", out]);
    expect(r.exitCode).toBe(0);
    const json = JSON.parse(r.stdout) as { infoHash: string; length: number; pieces: number; files: { path: string; length: number }[] };
    const info = lt<LtInfo>("info", out);
    expect(json.infoHash).toBe(info.infoHash);
    expect(json.length).toBe(info.totalSize);
    expect(json.pieces).toBe(info.numPieces);
    expect(json.files).toEqual(info.files.map((f) => ({ path: f.path, length: f.length })));
  });
});
