// The parsed form of a .torrent file (BEP 3, BEP 12 announce-list, BEP 19 url-list, BEP 27 private).
import type { InfoHash } from "../ids.ts";

export interface TorrentFile {
  /**
   * Path components, already checked to be safe. Multi-file: relative to the folder named `name`;
   * single-file: just `[name]`.
   */
  path: string[];
  length: number;
  /** Byte offset of this file's first byte within the torrent's concatenated content. */
  offset: number;
  /** A BEP 47 padding file (attr "p"): zeros that align the next file to a piece; never worth writing. */
  padding?: boolean;
}

export interface Metainfo {
  infoHash: InfoHash;
  /** The exact bytes of the `info` dictionary as they stand in the file. */
  infoBytes: Uint8Array;
  name: string;
  pieceLength: number;
  /** Number of pieces; the last one may be shorter than `pieceLength`. */
  pieceCount: number;
  /** All piece hashes back to back, 20 bytes each. */
  pieceHashes: Uint8Array;
  /** Total content size in bytes. */
  length: number;
  /** True for a multi-file torrent: files live under a folder named `name`. */
  multiFile: boolean;
  files: TorrentFile[];
  /** Tracker tiers (BEP 12); a lone `announce` becomes one tier of one. */
  announceList: string[][];
  urlList: string[];
  private: boolean;
  createdBy?: string;
  comment?: string;
  creationDate?: number;
  /** Things a user should know but that did not stop the parse (e.g. a sanitised path). */
  warnings: string[];
}

/** Byte length of piece `index` (the last piece may be short). */
export function pieceSize(meta: Pick<Metainfo, "pieceLength" | "pieceCount" | "length">, index: number): number {
  if (index < meta.pieceCount - 1) return meta.pieceLength;
  return meta.length - meta.pieceLength * (meta.pieceCount - 1);
}

/** The 20-byte expected SHA-1 of piece `index` (a view, not a copy). */
export function pieceHash(meta: Pick<Metainfo, "pieceHashes">, index: number): Uint8Array {
  return meta.pieceHashes.subarray(index * 20, index * 20 + 20);
}
