// Reference torrents for interoperation tests, made by mktorrent (an independent implementation, so a
// bug in our own metainfo code cannot hide in both the torrent and the client reading it).
/// <reference path="../../shared/bencode-package.d.ts" />
import bencode from "bencode";
import fs from "node:fs";

export interface MktorrentOptions {
  /** A file or a directory (multi-file torrent). */
  source: string;
  /** Where to write the .torrent. */
  out: string;
  /** Announce URLs, one tier each; none gives a trackerless torrent. */
  trackers?: string[];
  /** Piece length in bytes, a power of two from 32 KiB to 64 MiB (default 256 KiB). */
  pieceLength?: number;
  private?: boolean;
}

/** Runs mktorrent and returns the torrent's path; throws with mktorrent's output when it fails. */
export function mktorrent(options: MktorrentOptions): string {
  const pieceLength = options.pieceLength ?? 256 * 1024;
  const exp = Math.log2(pieceLength);
  if (!Number.isInteger(exp) || exp < 15 || exp > 26) throw new Error(`piece length ${pieceLength} is not a power of two in 32 KiB..64 MiB`);
  fs.rmSync(options.out, { force: true });
  const args = ["mktorrent", "-l", String(exp), "-o", options.out, "-c", "btswarm test"];
  for (const t of options.trackers ?? []) args.push("-a", t);
  if (options.private) args.push("-p");
  args.push(options.source);
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`mktorrent failed (${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
  return options.out;
}

/** The info hash (hex, lower case) of a v1 .torrent file. */
export function infoHashHex(torrentFile: string): string {
  const meta = bencode.decode(fs.readFileSync(torrentFile)) as Record<string, unknown>;
  if (!meta.info) throw new Error(`${torrentFile} has no info dictionary`);
  // mktorrent writes canonical bencode, so re-encoding the decoded dictionary gives its exact bytes.
  return new Bun.CryptoHasher("sha1").update(bencode.encode(meta.info)).digest("hex");
}
