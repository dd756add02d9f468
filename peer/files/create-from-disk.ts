// `createTorrent` over real files: lists the source, streams each file through two reused buffers and
// hashes with Bun's native SHA-1.
import { createTorrent, type CreateOptions } from "../../shared/metainfo/create.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { readBuffers, readChunks } from "./read.ts";
import { listSource, type SkippedEntry, type SourceFile } from "./walk.ts";

export type DiskCreateOptions = Omit<CreateOptions<SourceFile>, "name" | "multiFile" | "files" | "sha1">;

export const nativeSha1 = () => new Bun.CryptoHasher("sha1");

export async function createTorrentFromDisk(
  input: string,
  options: DiskCreateOptions = {},
): Promise<{ torrent: Uint8Array; metainfo: Metainfo; skipped: SkippedEntry[] }> {
  const source = listSource(input);
  const buffers = readBuffers();
  const { torrent, metainfo } = await createTorrent(
    { ...options, name: source.name, multiFile: source.multiFile, files: source.files, sha1: nativeSha1 },
    (file) => readChunks(file.diskPath, file.length, buffers),
  );
  return { torrent, metainfo, skipped: source.skipped };
}
