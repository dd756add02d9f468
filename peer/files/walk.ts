// Lists what goes into a torrent made from a file or a folder: regular files only, in a stable order
// (sorted by path bytes, the order createTorrent writes), with every skipped entry reported, never
// dropped silently: symbolic links (following them could pull in data from outside the folder, or
// loop), sockets, pipes and devices, and folders that cannot be read.
import { lstatSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { sortFiles } from "../../shared/metainfo/create.ts";

export interface SourceFile {
  /** Path components below the chosen folder; `[name]` for a single file. */
  path: string[];
  length: number;
  /** Where to read it on disk. */
  diskPath: string;
}

export interface SkippedEntry {
  diskPath: string;
  reason: string;
}

export interface TorrentSource {
  name: string;
  multiFile: boolean;
  files: SourceFile[];
  skipped: SkippedEntry[];
}

export class SourceError extends Error {
  override readonly name = "SourceError";
  constructor(
    readonly code: "not-found" | "not-a-file",
    message: string,
  ) {
    super(message);
  }
}

export function listSource(input: string): TorrentSource {
  const root = resolve(input);
  let stat;
  try {
    stat = statSync(root);
  } catch {
    throw new SourceError("not-found", `"${input}" does not exist`);
  }
  const name = basename(root);
  if (stat.isFile()) {
    return { name, multiFile: false, files: [{ path: [name], length: stat.size, diskPath: root }], skipped: [] };
  }
  if (!stat.isDirectory()) throw new SourceError("not-a-file", `"${input}" is neither a regular file nor a folder`);
  const files: SourceFile[] = [];
  const skipped: SkippedEntry[] = [];
  walk(root, [], files, skipped);
  return { name, multiFile: true, files: sortFiles(files), skipped };
}

function walk(dir: string, prefix: string[], files: SourceFile[], skipped: SkippedEntry[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    skipped.push({ diskPath: dir, reason: `folder cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})` });
    return;
  }
  for (const entry of names) {
    const diskPath = join(dir, entry);
    const stat = lstatSync(diskPath);
    if (stat.isSymbolicLink()) skipped.push({ diskPath, reason: "symbolic link" });
    else if (stat.isDirectory()) walk(diskPath, [...prefix, entry], files, skipped);
    else if (stat.isFile()) files.push({ path: [...prefix, entry], length: stat.size, diskPath });
    else skipped.push({ diskPath, reason: "not a regular file (socket, pipe or device)" });
  }
}
