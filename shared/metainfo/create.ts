// Making a .torrent: pure and streaming. The caller lists the files and hands over a reader for each;
// bytes are fed straight into one incremental SHA-1 per piece (split at piece boundaries, across
// file boundaries), so memory stays flat whatever the input size: nothing is buffered here.
// Hashing is injected (`sha1`), so the peer can pass Bun's native hasher; the default is the pure
// TypeScript one from ../sha1.ts (correct everywhere, slower).
import { encode, type BEncodable } from "../bencode.ts";
import { Sha1 } from "../sha1.ts";
import { MetainfoError } from "./errors.ts";
import { parseMetainfo, MAX_PIECE_LENGTH } from "./parse.ts";
import { checkPathComponent } from "./paths.ts";
import type { Metainfo } from "./types.ts";

export interface IncrementalHasher {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

export interface CreateFile {
  /** Path components relative to the torrent folder (multi-file), or `[name]` for a single file. */
  path: string[];
  length: number;
}

export interface CreateOptions<F extends CreateFile = CreateFile> {
  name: string;
  /** True for a folder torrent (files under `name/`), false for a single file. */
  multiFile: boolean;
  files: F[];
  /** Power of two, 16 KiB..128 MiB; chosen from the total size when left out. */
  pieceLength?: number;
  /** Tracker tiers (BEP 12): each inner list is one tier. */
  trackers?: string[][];
  webSeeds?: string[];
  comment?: string;
  private?: boolean;
  createdBy?: string;
  /** Unix seconds; `null` leaves the field out (reproducible output). Default: now. */
  creationDate?: number | null;
  /** A fresh incremental SHA-1 per call. */
  sha1?: () => IncrementalHasher;
  /** Called after each chunk with the bytes hashed so far and the total. */
  onProgress?: (hashed: number, total: number) => void;
}

/** Yields the bytes of one file, in order. A chunk may be reused by the reader once the next is asked for. */
export type FileReader<F extends CreateFile = CreateFile> = (file: F, index: number) => AsyncIterable<Uint8Array>;

export const MIN_PIECE_LENGTH = 16 * 1024;
const AUTO_MAX_PIECE_LENGTH = 16 * 1024 * 1024;
const TARGET_MAX_PIECES = 2000;

/** Smallest power of two from 16 KiB to 16 MiB that keeps the piece count at or under ~2000 (so 1000–2000 for mid sizes). */
export function autoPieceLength(totalLength: number): number {
  let pieceLength = MIN_PIECE_LENGTH;
  while (totalLength / pieceLength > TARGET_MAX_PIECES && pieceLength < AUTO_MAX_PIECE_LENGTH) pieceLength *= 2;
  return pieceLength;
}

/** Sorts files by their path, component by component, comparing raw UTF-8 bytes: the same order on every machine. */
export function sortFiles<T extends CreateFile>(files: readonly T[]): T[] {
  const enc = new TextEncoder();
  const keyed = files.map((f) => ({ f, parts: f.path.map((p) => enc.encode(p)) }));
  keyed.sort((a, b) => {
    const n = Math.min(a.parts.length, b.parts.length);
    for (let i = 0; i < n; i++) {
      const d = compareBytes(a.parts[i]!, b.parts[i]!);
      if (d !== 0) return d;
    }
    return a.parts.length - b.parts.length;
  });
  return keyed.map((k) => k.f);
}

export async function createTorrent<F extends CreateFile>(
  options: CreateOptions<F>,
  read: FileReader<F>,
): Promise<{ torrent: Uint8Array; metainfo: Metainfo }> {
  checkOptions(options);
  const files = options.multiFile ? sortFiles(options.files) : options.files;
  const total = files.reduce((sum, f) => sum + f.length, 0);
  if (total === 0) throw new MetainfoError("empty-torrent", "nothing to share: the input holds no data (all files are empty)");
  const pieceLength = options.pieceLength ?? autoPieceLength(total);
  const pieces = await hashPieces(files, read, pieceLength, total, options);
  const info: { [key: string]: BEncodable | undefined } = {
    name: options.name,
    "piece length": pieceLength,
    pieces,
    private: options.private ? 1 : undefined,
  };
  if (options.multiFile) info.files = files.map((f) => ({ length: f.length, path: f.path }));
  else info.length = total;
  const tiers = (options.trackers ?? []).filter((t) => t.length > 0);
  const creationDate = options.creationDate === undefined ? Math.floor(Date.now() / 1000) : options.creationDate;
  const torrent = encode({
    announce: tiers[0]?.[0],
    // BEP 12: only worth writing when there is more than one tracker.
    "announce-list": tiers.flat().length > 1 ? tiers : undefined,
    comment: options.comment,
    "created by": options.createdBy,
    "creation date": creationDate ?? undefined,
    info,
    "url-list": options.webSeeds && options.webSeeds.length > 0 ? options.webSeeds : undefined,
  });
  return { torrent, metainfo: parseMetainfo(torrent) };
}

async function hashPieces<F extends CreateFile>(
  files: F[],
  read: FileReader<F>,
  pieceLength: number,
  total: number,
  options: CreateOptions<F>,
): Promise<Uint8Array> {
  const newHasher = options.sha1 ?? (() => new Sha1());
  const pieceCount = Math.ceil(total / pieceLength);
  const pieces = new Uint8Array(pieceCount * 20);
  let piece = 0;
  let inPiece = 0;
  let hasher = newHasher();
  let hashed = 0;
  const finishPiece = () => {
    pieces.set(hasher.digest().subarray(0, 20), piece * 20);
    piece++;
    inPiece = 0;
    hasher = newHasher();
  };
  for (const [index, file] of files.entries()) {
    let seen = 0;
    for await (const chunk of read(file, index)) {
      if (seen + chunk.length > file.length) throw changed(file, "grew");
      seen += chunk.length;
      let at = 0;
      while (at < chunk.length) {
        const take = Math.min(pieceLength - inPiece, chunk.length - at);
        hasher.update(chunk.subarray(at, at + take));
        inPiece += take;
        at += take;
        if (inPiece === pieceLength) finishPiece();
      }
      hashed += chunk.length;
      options.onProgress?.(hashed, total);
    }
    if (seen !== file.length) throw changed(file, "shrank");
  }
  if (inPiece > 0) finishPiece();
  return pieces;
}

function changed(file: CreateFile, how: string): MetainfoError {
  return new MetainfoError("data-mismatch", `"${file.path.join("/")}" ${how} while it was being hashed (expected ${file.length} bytes); try again`);
}

function checkOptions(options: CreateOptions<CreateFile>): void {
  checkPathComponent(options.name, "the torrent name");
  if (!options.multiFile && options.files.length !== 1) {
    throw new MetainfoError("bad-option", "a single-file torrent needs exactly one file");
  }
  if (options.multiFile && options.files.length === 0) throw new MetainfoError("empty-torrent", "the folder holds no files to share");
  const seen = new Set<string>();
  for (const file of options.files) {
    if (!Number.isSafeInteger(file.length) || file.length < 0) throw new MetainfoError("bad-length", `"${file.path.join("/")}" has an invalid length`);
    if (options.multiFile) {
      if (file.path.length === 0) throw new MetainfoError("unsafe-path", "a file has an empty path");
      for (const part of file.path) checkPathComponent(part, "path component");
      const key = file.path.join("\0");
      if (seen.has(key)) throw new MetainfoError("duplicate-path", `"${file.path.join("/")}" is listed twice`);
      seen.add(key);
    }
  }
  const p = options.pieceLength;
  if (p !== undefined && (!Number.isInteger(p) || p < MIN_PIECE_LENGTH || p > MAX_PIECE_LENGTH || (p & (p - 1)) !== 0)) {
    throw new MetainfoError("bad-option", `piece length ${p} must be a power of two from 16 KiB to 128 MiB (e.g. 262144)`);
  }
  for (const url of [...(options.trackers ?? []).flat(), ...(options.webSeeds ?? [])]) checkUrl(url);
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MetainfoError("bad-option", `"${url}" is not a URL (expected e.g. http://tracker.example/announce)`);
  }
  if (!["http:", "https:", "udp:", "ws:", "wss:"].includes(parsed.protocol)) {
    throw new MetainfoError("bad-option", `"${url}" must be an http, https, udp or wss URL`);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
