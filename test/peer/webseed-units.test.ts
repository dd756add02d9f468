// The pure parts of web seeds: BEP 19 URLs per file, a run of pieces as per-file ranges (padding as
// zeros), and the picker's whole-piece claims, which peers never share, not even in end game.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { Downloader } from "../../peer/pieces/downloader.ts";
import { PiecePicker, type PickerPeer } from "../../peer/pieces/picker.ts";
import { BufferPool } from "../../peer/pieces/pool.ts";
import { fileUrl, isWebSeedUrl } from "../../peer/webseed/urls.ts";
import { filesOfPiece, piecesOfFile, runSegments } from "../../peer/webseed/segments.ts";

describe("web seed URLs (BEP 19)", () => {
  const single = { name: "a b#1.iso", multiFile: false, files: [{ path: ["a b#1.iso"], length: 10, offset: 0 }] };
  const multi = {
    name: "set",
    multiFile: true,
    files: [
      { path: ["x.bin"], length: 5, offset: 0 },
      { path: ["sub dir", "ü?%.bin"], length: 5, offset: 5 },
    ],
  };

  test("single-file: the URL is the file; a URL ending in / gets the name, percent-encoded", () => {
    expect(fileUrl("http://h/files/image.iso", single, 0)).toBe("http://h/files/image.iso");
    expect(fileUrl("http://h/files/", single, 0)).toBe("http://h/files/a%20b%231.iso");
  });

  test("multi-file: URL/name/path, each component encoded on its own, one / added when missing", () => {
    expect(fileUrl("http://h/seed/", multi, 1)).toBe("http://h/seed/set/sub%20dir/%C3%BC%3F%25.bin");
    expect(fileUrl("http://h/seed", multi, 0)).toBe("http://h/seed/set/x.bin");
  });

  test("only http and https URLs are web seeds", () => {
    expect(["http://h/", "https://h/x", "ftp://h/", "udp://h:1/", "not a url"].map(isWebSeedUrl)).toEqual([true, true, false, false, false]);
  });
});

describe("runs of pieces as file ranges", () => {
  // Pieces of 10: file a [0, 15), padding [15, 20), b [20, 20), c [20, 35).
  const meta = {
    pieceLength: 10,
    length: 35,
    files: [
      { path: ["a"], length: 15, offset: 0 },
      { path: [".pad", "5"], length: 5, offset: 15, padding: true },
      { path: ["b"], length: 0, offset: 20 },
      { path: ["c"], length: 15, offset: 20 },
    ],
  };

  test("a run is split at file boundaries, padding marked, empty files skipped, the short last piece cut", () => {
    expect(runSegments(meta, 1, 3)).toEqual([
      { file: 0, position: 10, length: 5, padding: false },
      { file: 1, position: 0, length: 5, padding: true },
      { file: 3, position: 0, length: 15, padding: false },
    ]);
  });

  test("the files of a piece (not padding) and the pieces of a file", () => {
    expect(filesOfPiece(meta, 1)).toEqual([0]);
    expect(filesOfPiece(meta, 0)).toEqual([0]);
    expect(piecesOfFile(meta, 3)).toEqual({ first: 2, last: 3 });
    expect(piecesOfFile(meta, 2)).toBeNull();
  });
});

describe("PiecePicker.claimRun", () => {
  const geometry = { pieceCount: 6, pieceLength: 2 * BLOCK_SIZE, length: 6 * 2 * BLOCK_SIZE };
  const source = (id: number, pieces: number[]): PickerPeer => {
    const bits = new Bitfield(geometry.pieceCount);
    for (const p of pieces) bits.set(p);
    return { id, peerPieces: bits, outstanding: new Set() };
  };

  test("claims consecutive pieces from the least available one, and peers never get their blocks", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    const peer = source(1, [0, 1, 2, 3, 4, 5]);
    picker.addPeerPieces(peer.peerPieces);
    picker.addPeerPieces(source(2, [0, 1]).peerPieces); // 0 and 1 are the most available
    const web = source(-1, [0, 1, 2, 3, 4, 5]);
    const run = picker.claimRun(web, 3, () => ({}));
    expect(run.map((p) => p.index)).toEqual([2, 3, 4]);
    // The peer takes everything else, then the end game: still nothing of the web seed's pieces.
    const out: number[] = [];
    for (let i = 0; i < 4; i++) picker.pick(peer, 100, () => ({}), out);
    expect(picker.inEndGame).toBe(true);
    expect(new Set(out.map((k) => picker.splitKey(k).index))).toEqual(new Set([0, 1, 5]));
  });

  test("stops at a piece the source lacks, one under way, or when no payload is given", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    expect(picker.claimRun(source(-1, [0, 1, 3]), 5, () => ({})).map((p) => p.index)).toEqual([0, 1]);
    expect(picker.claimRun(source(-2, [0, 1, 2, 3]), 5, () => ({})).map((p) => p.index)).toEqual([2, 3]);
    let slots = 1;
    expect(picker.claimRun(source(-3, [4, 5]), 5, () => (slots-- > 0 ? {} : null)).map((p) => p.index)).toEqual([4]);
  });

  test("an abandoned claim goes back to anyone", () => {
    const picker = new PiecePicker(geometry, new Bitfield(geometry.pieceCount));
    const [claimed] = picker.claimRun(source(-1, [3]), 1, () => ({}));
    picker.abandon(claimed!.index);
    const peer = source(1, [3]);
    picker.addPeerPieces(peer.peerPieces);
    const out: number[] = [];
    picker.pick(peer, 10, () => ({}), out);
    expect(out.map((k) => picker.splitKey(k).index)).toEqual([3, 3]);
  });
});

describe("Downloader.claimRun", () => {
  test("whole-piece sources together hold at most half the pool: peers always find slots", () => {
    const pieces = 8;
    const piece = 2 * BLOCK_SIZE;
    const meta = {
      pieceLength: piece,
      pieceCount: pieces,
      length: pieces * piece,
      pieceHashes: new Uint8Array(pieces * 20),
      files: [{ path: ["f"], length: pieces * piece, offset: 0 }],
    } as unknown as Metainfo;
    const pool = new BufferPool({ slotSize: piece, totalBytes: 6 * piece });
    const hooks = { peers: () => [], pieceDone: () => {}, pieceFailed: () => {}, ban: () => {}, writeFailed: () => {} };
    const downloader = new Downloader(meta, new Bitfield(pieces), pool, { writePieceAsync: async () => {} }, hooks);
    const all = new Bitfield(pieces);
    for (let i = 0; i < pieces; i++) all.set(i);
    const web = { id: -1, peerPieces: all, outstanding: new Set<number>(), pieceChecked: () => {} };
    expect(downloader.claimRun(web, 8).length).toBe(3);
    expect(downloader.claimRun({ ...web, id: -2 }, 8).length).toBe(0);
    expect(pool.freeCount).toBe(3);
  });
});
