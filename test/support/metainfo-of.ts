// Builds a real Metainfo (hashes computed over the given content) for storage and verification tests,
// without going through a .torrent file.
import { createHash } from "node:crypto";
import type { InfoHash } from "../../shared/ids.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";

export interface ContentFile {
  path: string[];
  data: Uint8Array;
}

export function metainfoOf(name: string, files: ContentFile[], pieceLength: number, multiFile = files.length > 1): Metainfo {
  let offset = 0;
  const layout = files.map((f) => {
    const entry = { path: f.path, length: f.data.length, offset };
    offset += f.data.length;
    return entry;
  });
  const all = new Uint8Array(offset);
  files.forEach((f, i) => all.set(f.data, layout[i]!.offset));
  const pieceCount = Math.ceil(offset / pieceLength);
  const pieceHashes = new Uint8Array(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) {
    pieceHashes.set(
      createHash("sha1")
        .update(all.subarray(i * pieceLength, (i + 1) * pieceLength))
        .digest(),
      i * 20,
    );
  }
  return {
    infoHash: new Uint8Array(20) as InfoHash,
    infoBytes: new Uint8Array(0),
    name,
    pieceLength,
    pieceCount,
    pieceHashes,
    length: offset,
    multiFile,
    files: layout,
    announceList: [],
    urlList: [],
    private: false,
    warnings: [],
  };
}

/** The torrent's content as one buffer. */
export function contentOf(files: ContentFile[]): Uint8Array {
  const all = new Uint8Array(files.reduce((n, f) => n + f.data.length, 0));
  let at = 0;
  for (const f of files) {
    all.set(f.data, at);
    at += f.data.length;
  }
  return all;
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
