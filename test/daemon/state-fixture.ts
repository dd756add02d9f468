// A made-up torrent for the state store's tests: its record, a layout of three files whose pieces
// straddle file boundaries, and piece contents that differ from each other and from zeros.
import * as fs from "node:fs";
import * as path from "node:path";
import { infoHashFromHex } from "../../shared/ids.ts";
import type { WriterLayout } from "../../peer/daemon/resume-writer.ts";
import type { TorrentRecord } from "../../peer/daemon/state-store.ts";

const HEX = "0123456789abcdef0123456789abcdef01234567";

export const CRASH_TORRENT: TorrentRecord & { hex: string } = {
  hex: HEX,
  infoHash: infoHashFromHex(HEX),
  metainfo: new TextEncoder().encode("d4:infod4:name5:crashee"),
  savePath: "/data",
  options: { maxPeers: 50 },
  state: "downloading",
  addedAt: 1_700_000_000_000,
};

/** 1000 pieces of 4 KiB in files of 1.5 MiB + 1234 bytes, 2 MiB - 1234 bytes, and 0.5 MiB. */
export function crashLayout(dir: string): WriterLayout {
  return layoutOf(path.join(dir, "data"), 4096, [1536 * 1024 + 1234, 2048 * 1024 - 1234, 512 * 1024 - 96 * 1024]);
}

export function layoutOf(dataDir: string, pieceLength: number, sizes: number[]): WriterLayout {
  let offset = 0;
  const files = sizes.map((length, i) => {
    const file = { path: path.join(dataDir, `file-${i}`), offset, length };
    offset += length;
    return file;
  });
  return { pieceLength, pieceCount: Math.ceil(offset / pieceLength), files };
}

function range(layout: WriterLayout, piece: number): [number, number] {
  const total = layout.files.reduce((n, f) => n + f.length, 0);
  return [piece * layout.pieceLength, Math.min(total, (piece + 1) * layout.pieceLength)];
}

export function pieceBytes(layout: WriterLayout, piece: number): Uint8Array {
  const [start, end] = range(layout, piece);
  const bytes = new Uint8Array(end - start).fill((piece * 7 + 1) & 0xff || 1);
  new DataView(bytes.buffer).setUint32(0, piece + 1);
  return bytes;
}

/** Calls visit(fileIndex, positionInFile, start, end) for each file span of the piece (start/end in the piece). */
function spans(layout: WriterLayout, piece: number, visit: (file: number, position: number, start: number, end: number) => void): void {
  const [start, end] = range(layout, piece);
  layout.files.forEach((f, i) => {
    const from = Math.max(start, f.offset);
    const to = Math.min(end, f.offset + f.length);
    if (from < to) visit(i, from - f.offset, from - start, to - start);
  });
}

export function writePiece(layout: WriterLayout, fds: number[], piece: number): void {
  const bytes = pieceBytes(layout, piece);
  spans(layout, piece, (file, position, start, end) => {
    fs.writeSync(fds[file]!, bytes, start, end - start, position);
  });
}

/** What a re-check does: read the piece back and compare. */
export function pieceOnDiskIsRight(layout: WriterLayout, piece: number): boolean {
  const want = pieceBytes(layout, piece);
  const got = new Uint8Array(want.length);
  spans(layout, piece, (file, position, start, end) => {
    const fd = fs.openSync(layout.files[file]!.path, "r");
    try {
      fs.readSync(fd, got, start, end - start, position);
    } finally {
      fs.closeSync(fd);
    }
  });
  return Buffer.from(got).equals(Buffer.from(want));
}
