import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { encode, type BEncodable } from "../bencode.ts";
import { toHex } from "../bytes.ts";
import { MetainfoError, type MetainfoErrorCode } from "./errors.ts";
import { parseMetainfo } from "./parse.ts";
import { pieceHash, pieceSize } from "./types.ts";

const te = new TextEncoder();
const sha1Hex = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("hex");

type Info = { [key: string]: BEncodable | undefined };
const single = (over: Info = {}): Info => ({ name: "a.bin", "piece length": 16384, length: 40000, pieces: new Uint8Array(60), ...over });
const multi = (files: BEncodable[], over: Info = {}): Info => ({ name: "dir", "piece length": 16384, files, pieces: new Uint8Array(20), ...over });
const torrent = (info: Info, root: Info = {}) => encode({ announce: "http://tracker.test/announce", ...root, info });

function errorOf(bytes: Uint8Array): MetainfoError {
  try {
    parseMetainfo(bytes);
  } catch (error) {
    if (error instanceof MetainfoError) return error;
    throw error;
  }
  throw new Error("expected a MetainfoError");
}
const expectCode = (bytes: Uint8Array, code: MetainfoErrorCode) => expect(errorOf(bytes).code).toBe(code);

describe("parseMetainfo on valid torrents", () => {
  test("reads a single-file torrent", () => {
    const bytes = torrent(single(), { comment: "hi", "created by": "me", "creation date": 1700000000 });
    const meta = parseMetainfo(bytes);
    expect(meta.name).toBe("a.bin");
    expect(meta.multiFile).toBe(false);
    expect(meta.files).toEqual([{ path: ["a.bin"], length: 40000, offset: 0 }]);
    expect(meta.length).toBe(40000);
    expect(meta.pieceLength).toBe(16384);
    expect(meta.pieceCount).toBe(3);
    expect(pieceSize(meta, 2)).toBe(40000 - 2 * 16384);
    expect(pieceHash(meta, 1).length).toBe(20);
    expect(meta.announceList).toEqual([["http://tracker.test/announce"]]);
    expect(meta.comment).toBe("hi");
    expect(meta.createdBy).toBe("me");
    expect(meta.creationDate).toBe(1700000000);
    expect(meta.private).toBe(false);
    expect(meta.warnings).toEqual([]);
  });

  test("reads a multi-file torrent with nested folders and offsets", () => {
    const meta = parseMetainfo(
      torrent(
        multi([
          { length: 10, path: ["a", "b.txt"] },
          { length: 0, path: ["empty"] },
          { length: 5, path: ["c"] },
        ]),
      ),
    );
    expect(meta.multiFile).toBe(true);
    expect(meta.files).toEqual([
      { path: ["a", "b.txt"], length: 10, offset: 0 },
      { path: ["empty"], length: 0, offset: 10 },
      { path: ["c"], length: 5, offset: 10 },
    ]);
    expect(meta.length).toBe(15);
  });

  test("hashes the info dictionary's exact bytes, even when its keys are unsorted", () => {
    const info = `d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:${"\0".repeat(20)}e`;
    const unsorted = `d4:name1:x6:lengthi5e12:piece lengthi16384e6:pieces20:${"\0".repeat(20)}e`;
    for (const text of [info, unsorted]) {
      const bytes = te.encode(`d4:info${text}e`);
      const meta = parseMetainfo(bytes);
      expect(toHex(meta.infoHash)).toBe(sha1Hex(te.encode(text)));
      expect(meta.infoBytes).toEqual(te.encode(text));
    }
  });

  test("reads BEP 12 tiers, which replace announce", () => {
    const meta = parseMetainfo(torrent(single(), { "announce-list": [["http://a/", "http://b/"], [], ["udp://c:1"]] }));
    expect(meta.announceList).toEqual([["http://a/", "http://b/"], ["udp://c:1"]]);
  });

  test("falls back to announce when announce-list is empty, and to no trackers without either", () => {
    expect(parseMetainfo(torrent(single(), { "announce-list": [] })).announceList).toEqual([["http://tracker.test/announce"]]);
    expect(parseMetainfo(encode({ info: single() })).announceList).toEqual([]);
  });

  test("reads url-list as a string or a list", () => {
    expect(parseMetainfo(torrent(single(), { "url-list": "http://seed/" })).urlList).toEqual(["http://seed/"]);
    expect(parseMetainfo(torrent(single(), { "url-list": ["http://a/", "http://b/"] })).urlList).toEqual(["http://a/", "http://b/"]);
  });

  test("reads the private flag from the info dictionary", () => {
    expect(parseMetainfo(torrent(single({ private: 1 }))).private).toBe(true);
    expect(parseMetainfo(torrent(single({ private: 0 }))).private).toBe(false);
  });

  test("prefers name.utf-8 and path.utf-8", () => {
    const meta = parseMetainfo(
      torrent(multi([{ length: 1, path: [new Uint8Array([0xe9])], "path.utf-8": ["é"] }], { name: new Uint8Array([0xff]), "name.utf-8": "Ω" })),
    );
    expect(meta.name).toBe("Ω");
    expect(meta.files[0]!.path).toEqual(["é"]);
    expect(meta.warnings).toEqual([]);
  });

  test("shows names that are not UTF-8 with replacement characters and a warning", () => {
    const meta = parseMetainfo(torrent(single({ name: new Uint8Array([0x61, 0xff]) })));
    expect(meta.name).toBe("a\uFFFD");
    expect(meta.warnings.join()).toContain("not valid UTF-8");
  });

  test("accepts a piece length that is not a power of two, with a warning", () => {
    const meta = parseMetainfo(torrent(single({ "piece length": 20000, length: 40000, pieces: new Uint8Array(40) })));
    expect(meta.pieceCount).toBe(2);
    expect(meta.warnings.join()).toContain("not a power of two");
  });

  test("marks BEP 47 padding files", () => {
    const meta = parseMetainfo(
      torrent(
        multi([
          { length: 1, path: ["a"] },
          { length: 16383, path: [".pad", "16383"], attr: "p" },
        ]),
      ),
    );
    expect(meta.files[1]!.padding).toBe(true);
    expect(meta.files[0]!.padding).toBeUndefined();
  });

  test("drops empty path components with a warning", () => {
    const meta = parseMetainfo(torrent(multi([{ length: 5, path: ["a", "", "b"] }])));
    expect(meta.files[0]!.path).toEqual(["a", "b"]);
    expect(meta.warnings.join()).toContain("dropped empty path components");
  });
});

describe("parseMetainfo rejects malformed torrents with a stable code", () => {
  test("rejects bytes that are not bencode", () => {
    const error = errorOf(te.encode("d4:infod4:name"));
    expect(error.code).toBe("bencode");
    expect(error.message).toContain("at byte");
  });
  test("rejects empty input", () => expectCode(new Uint8Array(0), "bencode"));
  test("rejects a file that is not a dictionary", () => expectCode(te.encode("l4:infoe"), "not-a-dict"));
  test("rejects a torrent without info", () => expectCode(encode({ announce: "x" }), "missing-info"));
  test("rejects an info that is not a dictionary", () => expectCode(encode({ info: "x" }), "missing-info"));
  test("rejects a missing name", () => expectCode(torrent(single({ name: undefined })), "bad-name"));
  test("rejects an empty name", () => expectCode(torrent(single({ name: "" })), "bad-name"));
  test("rejects a name that climbs out of the folder", () => expectCode(torrent(single({ name: ".." })), "unsafe-path"));
  test("rejects a name with a separator", () => expectCode(torrent(single({ name: "a/b" })), "unsafe-path"));
  test("rejects a missing piece length", () => expectCode(torrent(single({ "piece length": undefined })), "bad-piece-length"));
  test("rejects a zero piece length", () => expectCode(torrent(single({ "piece length": 0 })), "bad-piece-length"));
  test("rejects a negative piece length", () => expectCode(torrent(single({ "piece length": -16384 })), "bad-piece-length"));
  test("rejects a piece length given as a string", () => expectCode(torrent(single({ "piece length": "16384" })), "bad-piece-length"));
  test("rejects an absurdly large piece length", () => expectCode(torrent(single({ "piece length": 2 ** 30 })), "bad-piece-length"));
  test("rejects pieces not a multiple of 20 bytes", () => expectCode(torrent(single({ pieces: new Uint8Array(59) })), "bad-pieces"));
  test("rejects too few piece hashes for the size", () => expectCode(torrent(single({ pieces: new Uint8Array(40) })), "bad-pieces"));
  test("rejects too many piece hashes for the size", () => expectCode(torrent(single({ pieces: new Uint8Array(80) })), "bad-pieces"));
  test("rejects missing pieces", () => expectCode(torrent(single({ pieces: undefined })), "bad-pieces"));
  test("rejects a negative length", () => expectCode(torrent(single({ length: -1 })), "bad-length"));
  test("rejects a missing length", () => expectCode(torrent(single({ length: undefined })), "bad-length"));
  test("rejects a negative file length", () => expectCode(torrent(multi([{ length: -5, path: ["a"] }])), "bad-length"));
  test("rejects a torrent of zero bytes", () => expectCode(torrent(single({ length: 0, pieces: new Uint8Array(0) })), "empty-torrent"));
  test("rejects an empty files list", () => expectCode(torrent(multi([])), "bad-files"));
  test("rejects a file entry that is not a dictionary", () => expectCode(torrent(multi(["a"])), "bad-files"));
  test("rejects a file without a path list", () => expectCode(torrent(multi([{ length: 1, path: "a" }])), "bad-files"));
  test("rejects a file with an empty path", () => expectCode(torrent(multi([{ length: 1, path: [] }])), "unsafe-path"));
  test("rejects a path with only empty components", () => expectCode(torrent(multi([{ length: 1, path: ["", ""] }])), "unsafe-path"));
  test("rejects a .. path component", () => expectCode(torrent(multi([{ length: 1, path: ["..", "etc", "passwd"] }])), "unsafe-path"));
  test("rejects a . path component", () => expectCode(torrent(multi([{ length: 1, path: [".", "a"] }])), "unsafe-path"));
  test("rejects an absolute path component", () => expectCode(torrent(multi([{ length: 1, path: ["/etc/passwd"] }])), "unsafe-path"));
  test("rejects a separator inside a component", () => expectCode(torrent(multi([{ length: 1, path: ["a/../../b"] }])), "unsafe-path"));
  test("rejects a backslash inside a component", () => expectCode(torrent(multi([{ length: 1, path: ["..\\evil"] }])), "unsafe-path"));
  test("rejects a NUL byte in a component", () => expectCode(torrent(multi([{ length: 1, path: ["a\0b"] }])), "unsafe-path"));
  test("rejects a Windows drive prefix", () => expectCode(torrent(multi([{ length: 1, path: ["C:evil"] }])), "unsafe-path"));
  test("rejects the same path twice", () =>
    expectCode(
      torrent(
        multi([
          { length: 1, path: ["a"] },
          { length: 1, path: ["a"] },
        ]),
      ),
      "duplicate-path",
    ));
  test("rejects a path used as both file and folder", () =>
    expectCode(
      torrent(
        multi([
          { length: 1, path: ["a"] },
          { length: 1, path: ["a", "b"] },
        ]),
      ),
      "duplicate-path",
    ));
  test("rejects a folder later used as a file", () =>
    expectCode(
      torrent(
        multi([
          { length: 1, path: ["a", "b"] },
          { length: 1, path: ["a"] },
        ]),
      ),
      "duplicate-path",
    ));
  test("rejects a v2-only torrent", () =>
    expectCode(torrent({ name: "x", "piece length": 16384, "meta version": 2, "file tree": { x: { "": { length: 1 } } } }), "v2-only"));

  test("says what is wrong in the message", () => {
    expect(errorOf(torrent(multi([{ length: 1, path: ["..", "x"] }]))).message).toContain('".."');
    expect(errorOf(torrent(single({ pieces: new Uint8Array(40) }))).message).toContain("2 hashes");
  });
});
