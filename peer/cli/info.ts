// btpeer info <file.torrent | magnet-uri> [--json]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { infoHashToHex } from "../../shared/ids.ts";
import { isMagnet, MagnetError, parseMagnet } from "../../shared/magnet.ts";
import { MetainfoError } from "../../shared/metainfo/errors.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { formatBytes } from "./progress.ts";

const HELP = `usage: btpeer info <file.torrent | magnet-uri> [--json]

Shows what a torrent describes: name, info hash, size, pieces, files and trackers.
With --json, prints one JSON object: infoHash, name, length, pieceLength, pieces (count),
files [{path, length, padding?}] (paths relative to the download folder, "/"-separated), announce (all
tracker URLs), announceList (tiers), urlList, private, comment, createdBy, creationDate, warnings.
For a magnet link, fields only the metadata can tell (length, pieceLength, pieces) are null.`;

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    console.error(`btpeer info: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.values.help) {
    console.log(HELP);
    return 0;
  }
  if (args.positionals.length !== 1) {
    console.error(`btpeer info: give one .torrent file or magnet link\n\n${HELP}`);
    return 2;
  }
  const input = args.positionals[0]!;
  try {
    const summary = isMagnet(input) ? magnetSummary(input) : torrentSummary(readTorrent(input));
    if (args.values.json) console.log(JSON.stringify(summary));
    else printHuman(summary);
    return 0;
  } catch (error) {
    if (error instanceof MetainfoError || error instanceof MagnetError || error instanceof InputError) {
      console.error(`btpeer info: ${input}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

class InputError extends Error {}

function readTorrent(path: string): Metainfo {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === "ENOENT" ? "no such file" : `cannot read it (${code ?? error})`);
  }
  return parseMetainfo(bytes);
}

interface Summary {
  infoHash: string;
  name: string | null;
  length: number | null;
  pieceLength: number | null;
  pieces: number | null;
  files: { path: string; length: number; padding?: true }[];
  announce: string[];
  announceList: string[][];
  urlList: string[];
  private: boolean | null;
  comment?: string;
  createdBy?: string;
  creationDate?: number;
  peers?: string[];
  warnings: string[];
}

function torrentSummary(meta: Metainfo): Summary {
  const prefix = meta.multiFile ? [meta.name] : [];
  const summary: Summary = {
    infoHash: infoHashToHex(meta.infoHash),
    name: meta.name,
    length: meta.length,
    pieceLength: meta.pieceLength,
    pieces: meta.pieceCount,
    files: meta.files.map((f) => ({ path: [...prefix, ...f.path].join("/"), length: f.length, ...(f.padding ? { padding: true as const } : {}) })),
    announce: meta.announceList.flat(),
    announceList: meta.announceList,
    urlList: meta.urlList,
    private: meta.private,
    warnings: meta.warnings,
  };
  if (meta.comment !== undefined) summary.comment = meta.comment;
  if (meta.createdBy !== undefined) summary.createdBy = meta.createdBy;
  if (meta.creationDate !== undefined) summary.creationDate = meta.creationDate;
  return summary;
}

function magnetSummary(uri: string): Summary {
  const link = parseMagnet(uri);
  return {
    infoHash: infoHashToHex(link.infoHash),
    name: link.name ?? null,
    length: null,
    pieceLength: null,
    pieces: null,
    files: [],
    announce: link.trackers,
    announceList: link.trackers.map((t) => [t]),
    urlList: link.webSeeds,
    private: null,
    peers: link.peers,
    warnings: [],
  };
}

function printHuman(s: Summary): void {
  const row = (label: string, value: string) => console.log(`${label.padEnd(13)}${value}`);
  row("name", s.name ?? "(unknown until the metadata arrives)");
  row("info hash", s.infoHash);
  if (s.length !== null) row("size", `${formatBytes(s.length)} (${s.length} bytes)`);
  if (s.pieces !== null && s.pieceLength !== null) row("pieces", `${s.pieces} × ${formatBytes(s.pieceLength)}`);
  if (s.private !== null) row("private", s.private ? "yes" : "no");
  if (s.comment !== undefined) row("comment", s.comment);
  if (s.createdBy !== undefined) row("created by", s.createdBy);
  if (s.creationDate !== undefined) row("created", new Date(s.creationDate * 1000).toISOString());
  if (s.announceList.length === 0) row("trackers", "(none)");
  s.announceList.forEach((tier, i) => row(i === 0 ? "trackers" : "", `tier ${i + 1}: ${tier.join(", ")}`));
  for (const url of s.urlList) row("web seed", url);
  for (const peer of s.peers ?? []) row("peer", peer);
  if (s.files.length > 0) {
    row("files", String(s.files.length));
    // The index is what `download --only / --skip` take.
    const width = String(s.files.length - 1).length;
    s.files.forEach((f, i) => console.log(`  ${String(i).padStart(width)}  ${formatBytes(f.length).padStart(10)}  ${f.path}${f.padding ? " (padding)" : ""}`));
  }
  for (const w of s.warnings) console.log(`warning: ${w}`);
}
