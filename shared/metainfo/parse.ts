// Parsing and validating a .torrent file (BEP 3, BEP 12 announce-list, BEP 19 url-list, BEP 27
// private, BEP 47 padding files). The info hash is the SHA-1 of the `info` dictionary's exact bytes
// as they stand in the file, never of a re-encoding, so torrents with unsorted keys from sloppy tools
// keep the hash every other client computes. Decoding is lenient about key order for that reason.
//
// Decisions (see also paths.ts):
// - piece length: rejected when not an integer in 1 B..128 MiB; a piece length that is not a power of
//   two, or below 16 KiB, is accepted with a warning (legal, if unusual).
// - a torrent with no data (total length 0) is rejected: there is nothing to download or seed.
// - v2-only torrents (no `pieces`) are rejected; hybrid v1+v2 torrents load as v1.
// - when both `length` and `files` are present, `files` wins, with a warning.
import { BencodeError, decodeDict, type BDict, type BValue } from "../bencode.ts";
import { utf8 } from "../bytes.ts";
import { asInfoHash } from "../ids.ts";
import { sha1 } from "../sha1.ts";
import { MetainfoError } from "./errors.ts";
import { field, isBytes, isDict, isInteger, textField, textOf } from "./fields.ts";
import { checkPathComponent, safeFilePath } from "./paths.ts";
import type { Metainfo, TorrentFile } from "./types.ts";

export const MAX_PIECE_LENGTH = 128 * 1024 * 1024;

export function parseMetainfo(bytes: Uint8Array): Metainfo {
  const { root, infoBytes } = decodeTorrent(bytes);
  const info = root.info as BDict;
  const warnings: string[] = [];
  const name = readName(info, warnings);
  const pieceLength = readPieceLength(info, warnings);
  const { files, multiFile } = readFiles(info, name, warnings);
  const length = files.reduce((sum, f) => sum + f.length, 0);
  if (!Number.isSafeInteger(length)) throw new MetainfoError("bad-length", "total size of the files is too large to handle");
  if (length === 0) throw new MetainfoError("empty-torrent", "the torrent's files hold no data (total size 0); nothing to download");
  const pieceCount = Math.ceil(length / pieceLength);
  const pieceHashes = readPieces(info, pieceCount, length, pieceLength);
  const meta: Metainfo = {
    infoHash: asInfoHash(sha1(infoBytes)),
    infoBytes,
    name,
    pieceLength,
    pieceCount,
    pieceHashes,
    length,
    multiFile,
    files,
    announceList: readAnnounceList(root, warnings),
    urlList: readUrlList(root, warnings),
    private: field(info, "private") === 1,
    warnings,
  };
  const createdBy = textField(root, "created by");
  if (createdBy !== undefined) meta.createdBy = createdBy;
  const comment = textField(root, "comment");
  if (comment !== undefined) meta.comment = comment;
  const creationDate = field(root, "creation date");
  if (isInteger(creationDate)) meta.creationDate = creationDate;
  return meta;
}

function decodeTorrent(bytes: Uint8Array): { root: BDict; infoBytes: Uint8Array } {
  if (bytes.length > 0 && bytes[0] !== 0x64) {
    throw new MetainfoError("not-a-dict", "not a .torrent file: it does not start with a bencoded dictionary");
  }
  let decoded: ReturnType<typeof decodeDict>;
  try {
    decoded = decodeDict(bytes, { strictKeyOrder: false });
  } catch (error) {
    if (error instanceof BencodeError && error.code === "duplicate-key") {
      // Clients keep different copies of a duplicate (libtorrent and Transmission the first): one file,
      // two torrents with two info hashes. Refused rather than guessed.
      throw new MetainfoError("bencode", `not a valid .torrent file: ${error.message}; clients disagree on which copy counts`);
    }
    if (error instanceof BencodeError) throw new MetainfoError("bencode", `not a valid .torrent file: ${error.message}`);
    throw error;
  }
  // Keys are unique (the decoder refuses duplicates): the one `info` entry is the dictionary hashed.
  const infoEntry = decoded.entries.find((e) => e.key.length === 4 && utf8.decode(e.key) === "info");
  if (!infoEntry || !isDict(field(decoded.value, "info"))) {
    throw new MetainfoError("missing-info", "not a valid .torrent file: it has no `info` dictionary");
  }
  return { root: decoded.value, infoBytes: bytes.slice(infoEntry.start, infoEntry.end) };
}

function readName(info: BDict, warnings: string[]): string {
  const name = textField(info, "name", (text) => warnings.push(`the torrent name is not valid UTF-8; showing it as "${text}"`));
  if (name === undefined) throw new MetainfoError("bad-name", "the torrent has no `name`; it is malformed");
  if (name === "") throw new MetainfoError("bad-name", "the torrent's `name` is empty; it is malformed");
  checkPathComponent(name, "the torrent name");
  return name;
}

function readPieceLength(info: BDict, warnings: string[]): number {
  const value = field(info, "piece length");
  if (!isInteger(value)) throw new MetainfoError("bad-piece-length", "the torrent has no integer `piece length`");
  if (value <= 0) throw new MetainfoError("bad-piece-length", `piece length ${value} must be positive`);
  if (value > MAX_PIECE_LENGTH) {
    throw new MetainfoError("bad-piece-length", `piece length ${value} is absurdly large (over ${MAX_PIECE_LENGTH} bytes)`);
  }
  if ((value & (value - 1)) !== 0) warnings.push(`piece length ${value} is not a power of two`);
  if (value < 16384) warnings.push(`piece length ${value} is below 16 KiB, the usual minimum`);
  return value;
}

function readLength(value: BValue | undefined, where: string): number {
  if (!isInteger(value)) throw new MetainfoError("bad-length", `${where} has no integer \`length\``);
  if (value < 0) throw new MetainfoError("bad-length", `${where} has a negative length (${value})`);
  return value;
}

function readFiles(info: BDict, name: string, warnings: string[]): { files: TorrentFile[]; multiFile: boolean } {
  const list = field(info, "files");
  if (list === undefined) {
    if (field(info, "pieces") === undefined && field(info, "file tree") !== undefined) throw v2Only();
    return { files: [{ path: [name], length: readLength(field(info, "length"), "the torrent"), offset: 0 }], multiFile: false };
  }
  if (field(info, "length") !== undefined) warnings.push("the torrent has both `length` and `files`; using `files`");
  if (!Array.isArray(list) || list.length === 0) throw new MetainfoError("bad-files", "the torrent's `files` must be a non-empty list");
  const files: TorrentFile[] = [];
  let offset = 0;
  list.forEach((entry, index) => {
    if (!isDict(entry)) throw new MetainfoError("bad-files", `file ${index + 1} in \`files\` is not a dictionary`);
    const length = readLength(field(entry, "length"), `file ${index + 1}`);
    const { path, warning } = safeFilePath(readPathList(entry, index, warnings), index);
    if (warning) warnings.push(warning);
    const file: TorrentFile = { path, length, offset };
    const attr = field(entry, "attr");
    if (isBytes(attr) && attr.includes(0x70 /* p */)) file.padding = true;
    files.push(file);
    offset += length;
  });
  checkNoClashes(files);
  return { files, multiFile: true };
}

function readPathList(entry: BDict, index: number, warnings: string[]): string[] {
  const preferred = field(entry, "path.utf-8");
  if (Array.isArray(preferred) && preferred.length > 0 && preferred.every(isBytes)) {
    const texts = preferred.map((p) => utf8.decodeStrict(p));
    if (texts.every((t) => t !== null)) return texts as string[];
  }
  const path = field(entry, "path");
  if (!Array.isArray(path) || !path.every(isBytes)) {
    throw new MetainfoError("bad-files", `file ${index + 1} has no \`path\` list of strings`);
  }
  return path.map((p) => textOf(p, (text) => warnings.push(`file ${index + 1}: path is not valid UTF-8; using "${text}"`)));
}

/**
 * Two files at one path, or a file where another needs a folder, cannot both be written. Paths go into
 * a tree of components, so the work is linear in the components: joining every prefix of every path
 * into a string was quadratic in a path's depth (a 120 KB torrent of one deep path took 2 GB).
 */
function checkNoClashes(files: TorrentFile[]): void {
  interface Node {
    isFile: boolean;
    children: Map<string, Node> | null;
  }
  const root: Node = { isFile: false, children: null };
  for (const file of files) {
    let node = root;
    for (const [i, component] of file.path.entries()) {
      node.children ??= new Map();
      let child = node.children.get(component);
      const last = i === file.path.length - 1;
      if (child && (last || child.isFile)) {
        const at = file.path.slice(0, i + 1).join("/");
        throw new MetainfoError("duplicate-path", `the torrent lists "${at}" twice (or as both a file and a folder)`);
      }
      if (!child) node.children.set(component, (child = { isFile: last, children: null }));
      node = child;
    }
  }
}

function readPieces(info: BDict, pieceCount: number, length: number, pieceLength: number): Uint8Array {
  const pieces = field(info, "pieces");
  if (pieces === undefined && field(info, "file tree") !== undefined) throw v2Only();
  if (!isBytes(pieces)) throw new MetainfoError("bad-pieces", "the torrent has no `pieces` string of SHA-1 hashes");
  if (pieces.length % 20 !== 0) {
    throw new MetainfoError("bad-pieces", `\`pieces\` is ${pieces.length} bytes, not a multiple of 20 (one SHA-1 per piece)`);
  }
  if (pieces.length / 20 !== pieceCount) {
    throw new MetainfoError("bad-pieces", `\`pieces\` holds ${pieces.length / 20} hashes but ${length} bytes in pieces of ${pieceLength} make ${pieceCount}`);
  }
  return pieces;
}

function readAnnounceList(root: BDict, warnings: string[]): string[][] {
  const list = field(root, "announce-list");
  const tiers: string[][] = [];
  if (Array.isArray(list)) {
    for (const tier of list) {
      if (!Array.isArray(tier)) {
        warnings.push("ignored an `announce-list` tier that is not a list");
        continue;
      }
      const urls = tier
        .filter(isBytes)
        .map((u) => utf8.decode(u).trim())
        .filter((u) => u !== "");
      if (urls.length > 0) tiers.push(urls);
    }
  } else if (list !== undefined) {
    warnings.push("ignored an `announce-list` that is not a list");
  }
  // BEP 12: a non-empty announce-list replaces `announce`.
  if (tiers.length > 0) return tiers;
  const announce = field(root, "announce");
  const url = isBytes(announce) ? utf8.decode(announce).trim() : "";
  return url === "" ? [] : [[url]];
}

function readUrlList(root: BDict, warnings: string[]): string[] {
  const value = field(root, "url-list");
  if (value === undefined) return [];
  const items = isBytes(value) ? [value] : Array.isArray(value) ? value : [];
  if (!isBytes(value) && !Array.isArray(value)) warnings.push("ignored a `url-list` that is neither a string nor a list");
  return items
    .filter(isBytes)
    .map((u) => utf8.decode(u).trim())
    .filter((u) => u !== "");
}

function v2Only(): MetainfoError {
  return new MetainfoError("v2-only", "this is a BitTorrent v2-only torrent (no v1 `pieces`); only v1 and hybrid torrents are supported");
}
