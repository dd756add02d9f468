// The data a btpeer test seeds, made once per file in a fresh temp folder: the data under
// <dir>/seed/<name>, its .torrent (made with our own create API, no creation date) at <dir>/<stem>.torrent,
// and its parsed metainfo; and the check that a download came out the same as the data.
import { expect } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { createTorrentFromDisk } from "../../peer/files/create-from-disk.ts";
import { makeRandomFile, makeTempDir, sha256Tree } from "./files.ts";

/** Writes a .torrent for `source` (file or folder) and returns its path. */
export async function makeTorrent(source: string, out: string, opts: { trackers?: string[]; pieceLength?: number; private?: boolean } = {}): Promise<string> {
  const { torrent } = await createTorrentFromDisk(source, {
    trackers: (opts.trackers ?? []).map((t) => [t]),
    ...(opts.pieceLength ? { pieceLength: opts.pieceLength } : {}),
    ...(opts.private ? { private: true } : {}),
    creationDate: null,
  });
  fs.writeFileSync(out, torrent);
  return out;
}

export interface SeedFixture {
  /** The temp folder (the test removes it). */
  dir: string;
  /** <dir>/seed/<name>: the file or folder the torrent is made of; a seeder's --dir is its parent. */
  source: string;
  torrent: string;
  meta: Metainfo;
}

/** Makes `source` with `make`, then its trackerless .torrent with pieces of `pieceLength`. */
export async function seedFixture(prefix: string, name: string, pieceLength: number, make: (source: string) => void): Promise<SeedFixture> {
  const dir = makeTempDir(prefix);
  const source = path.join(dir, "seed", name);
  make(source);
  const torrent = await makeTorrent(source, path.join(dir, `${path.parse(name).name}.torrent`), { pieceLength });
  return { dir, source, torrent, meta: parseMetainfo(new Uint8Array(fs.readFileSync(torrent))) };
}

/** Two files, a.bin (300,000 bytes) and b.bin (200,000), in the folder "pair": a small multi-file torrent. */
export function makePair(folder: string): void {
  makeRandomFile(path.join(folder, "a.bin"), 300_000, 1);
  makeRandomFile(path.join(folder, "b.bin"), 200_000, 2);
}

/**
 * `count` files with long names, file i of `size(i)` bytes (so the info dictionary takes several metadata
 * pieces), and `big` (one larger file) if given.
 */
export function makeManyFiles(folder: string, count: number, size: (i: number) => number, big?: { size: number; seed: number }): void {
  for (let i = 0; i < count; i++) makeRandomFile(path.join(folder, `a-file-with-a-rather-long-name-${String(i).padStart(4, "0")}.bin`), size(i), i + 1);
  if (big) makeRandomFile(path.join(folder, "big.bin"), big.size, big.seed);
}

/** Every file of `got` has the bytes of the same file of `want`, and neither has a file more. */
export async function expectSameTree(got: string, want: string): Promise<void> {
  const gotTree = await sha256Tree(got);
  const wantTree = await sha256Tree(want);
  expect(gotTree.size).toBe(wantTree.size);
  expect(Object.fromEntries(gotTree)).toEqual(Object.fromEntries(wantTree));
}
