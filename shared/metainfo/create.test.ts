import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { concatBytes, toHex } from "../bytes.ts";
import { autoPieceLength, createTorrent, sortFiles, type CreateOptions, type FileReader } from "./create.ts";
import { MetainfoError, type MetainfoErrorCode } from "./errors.ts";
import { pieceHash } from "./types.ts";

const sha1Hex = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("hex");
const KiB = 1024;
const MiB = 1024 * KiB;

/** A reader over in-memory file contents, cut into chunks of `chunk` bytes. */
function memoryReader(contents: Map<string, Uint8Array>, chunk: number): FileReader {
  return async function* (file) {
    const data = contents.get(file.path.join("/"))!;
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  };
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

async function expectError(promise: Promise<unknown>, code: MetainfoErrorCode) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MetainfoError);
  expect((error as MetainfoError).code).toBe(code);
}

describe("createTorrent", () => {
  test("hashes pieces across file boundaries, whatever the chunk size", async () => {
    const contents = new Map([
      ["b/inner.bin", randomBytes(40_000)],
      ["a.bin", randomBytes(10_000)],
      ["c-empty", new Uint8Array(0)],
      ["d.bin", randomBytes(17_000)],
    ]);
    const files = [...contents].map(([path, data]) => ({ path: path.split("/"), length: data.length }));
    const sorted = sortFiles(files).map((f) => f.path.join("/"));
    expect(sorted).toEqual(["a.bin", "b/inner.bin", "c-empty", "d.bin"]);
    const all = concatBytes(sorted.map((p) => contents.get(p)!));
    for (const chunk of [1000, 16384, 65536]) {
      const { metainfo } = await createTorrent(
        { name: "set", multiFile: true, files, pieceLength: 16 * KiB, creationDate: null },
        memoryReader(contents, chunk),
      );
      expect(metainfo.pieceCount).toBe(Math.ceil(all.length / (16 * KiB)));
      for (let i = 0; i < metainfo.pieceCount; i++) {
        expect(toHex(pieceHash(metainfo, i))).toBe(sha1Hex(all.subarray(i * 16 * KiB, (i + 1) * 16 * KiB)));
      }
      expect(metainfo.files.map((f) => f.path.join("/"))).toEqual(sorted);
    }
  });

  test("writes a single-file torrent with trackers, comment, private flag and web seeds", async () => {
    const data = randomBytes(50_000);
    const options: CreateOptions = {
      name: "one.bin",
      multiFile: false,
      files: [{ path: ["one.bin"], length: data.length }],
      trackers: [["http://a.test/announce", "http://b.test/announce"], ["udp://c.test:6969"]],
      comment: "a comment",
      private: true,
      webSeeds: ["http://seed.test/files/"],
      createdBy: "btpeer test",
      creationDate: 1_700_000_000,
    };
    const { metainfo, torrent } = await createTorrent(options, memoryReader(new Map([["one.bin", data]]), 7777));
    expect(metainfo.multiFile).toBe(false);
    expect(metainfo.length).toBe(50_000);
    expect(metainfo.announceList).toEqual(options.trackers!);
    expect(metainfo.comment).toBe("a comment");
    expect(metainfo.private).toBe(true);
    expect(metainfo.urlList).toEqual(["http://seed.test/files/"]);
    expect(metainfo.createdBy).toBe("btpeer test");
    expect(metainfo.creationDate).toBe(1_700_000_000);
    expect(new TextDecoder().decode(torrent)).toContain("8:announce22:http://a.test/announce");
  });

  test("writes the same info hash for the same data whatever the chunking, and reports progress", async () => {
    const data = randomBytes(100_000);
    const seen: number[] = [];
    const make = (chunk: number) =>
      createTorrent(
        { name: "x", multiFile: false, files: [{ path: ["x"], length: data.length }], creationDate: null, onProgress: (done) => seen.push(done) },
        memoryReader(new Map([["x", data]]), chunk),
      );
    const [a, b] = [await make(3000), await make(100_000)];
    expect(toHex(a.metainfo.infoHash)).toBe(toHex(b.metainfo.infoHash));
    expect(seen.at(-1)).toBe(100_000);
  });

  test("uses an injected hasher", async () => {
    let made = 0;
    const sha1 = () => {
      made++;
      const hash = createHash("sha1");
      return { update: (b: Uint8Array) => hash.update(b), digest: () => new Uint8Array(hash.digest()) };
    };
    const data = randomBytes(40_000);
    const { metainfo } = await createTorrent(
      { name: "x", multiFile: false, files: [{ path: ["x"], length: data.length }], pieceLength: 16 * KiB, sha1 },
      memoryReader(new Map([["x", data]]), 5000),
    );
    expect(made).toBeGreaterThanOrEqual(3);
    expect(toHex(pieceHash(metainfo, 2))).toBe(sha1Hex(data.subarray(32 * KiB)));
  });

  test("fails clearly when a file changes size while it is hashed", async () => {
    const files = [{ path: ["x"], length: 10 }];
    await expectError(createTorrent({ name: "x", multiFile: false, files }, memoryReader(new Map([["x", new Uint8Array(5)]]), 4)), "data-mismatch");
    await expectError(createTorrent({ name: "x", multiFile: false, files }, memoryReader(new Map([["x", new Uint8Array(12)]]), 4)), "data-mismatch");
  });

  test("rejects bad options", async () => {
    const reader = memoryReader(new Map([["x", new Uint8Array(5)]]), 4);
    const base: CreateOptions = { name: "x", multiFile: false, files: [{ path: ["x"], length: 5 }] };
    await expectError(createTorrent({ ...base, pieceLength: 1000 }, reader), "bad-option");
    await expectError(createTorrent({ ...base, pieceLength: 8 * KiB }, reader), "bad-option");
    await expectError(createTorrent({ ...base, pieceLength: 256 * MiB }, reader), "bad-option");
    await expectError(createTorrent({ ...base, trackers: [["not a url"]] }, reader), "bad-option");
    await expectError(createTorrent({ ...base, trackers: [["ftp://x/"]] }, reader), "bad-option");
    await expectError(createTorrent({ ...base, name: ".." }, reader), "unsafe-path");
    await expectError(createTorrent({ ...base, files: [{ path: ["x"], length: 0 }] }, reader), "empty-torrent");
    await expectError(createTorrent({ ...base, multiFile: true, files: [{ path: ["a", ".."], length: 1 }] }, reader), "unsafe-path");
    await expectError(createTorrent({ ...base, multiFile: true, files: [] }, reader), "empty-torrent");
  });
});

describe("automatic piece length", () => {
  test("aims at 1000 to 2000 pieces with a power of two", () => {
    for (const total of [40 * MiB, 100 * MiB, 700 * MiB, 4 * 1024 * MiB, 20 * 1024 * MiB]) {
      const p = autoPieceLength(total);
      expect(p & (p - 1)).toBe(0);
      const count = Math.ceil(total / p);
      expect(count).toBeGreaterThan(1000);
      expect(count).toBeLessThanOrEqual(2000);
    }
  });

  test("stays within 16 KiB and 16 MiB", () => {
    expect(autoPieceLength(1)).toBe(16 * KiB);
    expect(autoPieceLength(5 * MiB)).toBe(16 * KiB);
    expect(autoPieceLength(1024 * 1024 * MiB)).toBe(16 * MiB);
  });
});
