// `remove` with its data: deletes the torrent's own files, and then the folders the torrent's layout made if
// they are left empty, through OutputFolder (storage/output-folder.ts), so nothing outside the save path is
// touched and no symlink is followed: a symlink standing where a file of the torrent would be stays.
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { layoutFiles, StorageError } from "../storage/index.ts";
import { OutputFolder } from "../storage/output-folder.ts";

/** Returns how many files it deleted; a file it cannot delete is logged, not thrown. */
export function deleteTorrentFiles(meta: Metainfo, savePath: string, log: (line: string) => void): number {
  const files = layoutFiles(meta, savePath).filter((f) => !f.padding);
  let folder: OutputFolder;
  try {
    folder = new OutputFolder(savePath, { missingOk: true });
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    log(`${meta.name}: cannot delete its files: ${error.message}`);
    return 0;
  }
  let deleted = 0;
  const folders = new Set<string>();
  try {
    for (const file of files) {
      try {
        if (folder.remove(file.parts)) deleted++;
      } catch (error) {
        if (!(error instanceof StorageError)) throw error;
        log(`${meta.name}: cannot delete ${file.path}: ${error.message}`);
      }
      for (let k = 1; k < file.parts.length; k++) folders.add(JSON.stringify(file.parts.slice(0, k)));
    }
    // Deepest first, so that a folder's subfolders are gone before it is tried; a folder still holding
    // something that is not the torrent's stays.
    const deepestFirst = [...folders].map((f) => JSON.parse(f) as string[]).sort((a, b) => b.length - a.length);
    for (const parts of deepestFirst) folder.remove(parts, true);
  } finally {
    folder.close();
  }
  return deleted;
}
