// btpeer create <file-or-dir> --tracker <url> [--tracker <url>...] [--piece-length <bytes>] [--private]
//                [--comment <text>] [--web-seed <url>...] -o <file.torrent>
import { existsSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { infoHashToHex } from "../../shared/ids.ts";
import { formatMagnet } from "../../shared/magnet.ts";
import { MetainfoError } from "../../shared/metainfo/errors.ts";
import { createTorrentFromDisk } from "../files/create-from-disk.ts";
import { SourceError } from "../files/walk.ts";
import { formatBytes } from "./progress.ts";
import { parseSize } from "./command-args.ts";

const HELP = `usage: btpeer create <file-or-dir> --tracker <url> [options] -o <file.torrent>

Makes a .torrent from one file or a whole folder (files in sorted order; symbolic links and special
files are skipped and listed). Each --tracker is its own tier; put several URLs in one tier with commas.

options:
  -t, --tracker <url>        announce URL (repeatable)
  -o, --output <file>        where to write the .torrent (default: <name>.torrent; never overwrites
                             an existing file unless --force)
  -l, --piece-length <size>  bytes per piece, a power of two from 16K to 128M (e.g. 262144, 256K, 4M);
                             default: chosen for about 1000-2000 pieces
  -p, --private              private torrent (BEP 27): peers only from the trackers
  -c, --comment <text>       free-text comment
  -w, --web-seed <url>       web seed URL (BEP 19, repeatable)
      --no-date              leave out the creation date (same input, same file)
  -f, --force                overwrite the output file
  -h, --help                 show this help`;

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tracker: { type: "string", short: "t", multiple: true },
        output: { type: "string", short: "o" },
        "piece-length": { type: "string", short: "l" },
        private: { type: "boolean", short: "p" },
        comment: { type: "string", short: "c" },
        "web-seed": { type: "string", short: "w", multiple: true },
        "no-date": { type: "boolean" },
        force: { type: "boolean", short: "f" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`btpeer create: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`btpeer create: give exactly one file or folder to share\n\n${HELP}`);
    return 2;
  }
  const pieceLength = values["piece-length"] === undefined ? undefined : parseSize(values["piece-length"]);
  if (pieceLength === null) {
    console.error(`btpeer create: --piece-length "${values["piece-length"]}" is not a size (e.g. 262144, 256K, 4M)`);
    return 2;
  }
  const input = positionals[0]!;
  const output = values.output ?? `${basename(resolve(input))}.torrent`;
  if (existsSync(output) && !values.force) {
    console.error(`btpeer create: ${output} already exists; pass --force to overwrite it`);
    return 1;
  }
  const progress = hashingProgress(Boolean(process.stderr.isTTY));
  try {
    const { torrent, metainfo, skipped } = await createTorrentFromDisk(input, {
      pieceLength,
      trackers: (values.tracker ?? []).map((t) =>
        t
          .split(",")
          .map((u) => u.trim())
          .filter((u) => u !== ""),
      ),
      webSeeds: values["web-seed"] ?? [],
      comment: values.comment,
      private: values.private ?? false,
      createdBy: "btpeer 0.1.0",
      creationDate: values["no-date"] ? null : undefined,
      onProgress: progress.update,
    });
    progress.done();
    writeFileSync(output, torrent);
    for (const s of skipped) console.error(`btpeer create: skipped ${s.diskPath} (${s.reason})`);
    const fileCount = metainfo.files.length;
    console.log(`created ${output}`);
    console.log(`  name       ${metainfo.name}`);
    console.log(`  info hash  ${infoHashToHex(metainfo.infoHash)}`);
    console.log(`  size       ${formatBytes(metainfo.length)} in ${fileCount} file${fileCount === 1 ? "" : "s"}`);
    console.log(`  pieces     ${metainfo.pieceCount} × ${formatBytes(metainfo.pieceLength)}`);
    console.log(`  magnet     ${formatMagnet({ infoHash: metainfo.infoHash, name: metainfo.name, trackers: metainfo.announceList.flat() })}`);
    if (metainfo.announceList.length === 0) console.error("btpeer create: note: no --tracker given; peers can only find this torrent by other means");
    return 0;
  } catch (error) {
    progress.done();
    if (error instanceof MetainfoError || error instanceof SourceError) {
      console.error(`btpeer create: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** A live percentage on stderr, only when it is a terminal, redrawn at most 10 times a second. */
function hashingProgress(isTTY: boolean) {
  let last = 0;
  let shown = false;
  return {
    update(hashed: number, total: number) {
      if (!isTTY) return;
      const now = Date.now();
      if (now - last < 100 && hashed < total) return;
      last = now;
      shown = true;
      const percent = ((hashed / total) * 100).toFixed(1).padStart(5);
      process.stderr.write(`\r\x1b[2Khashing ${percent}%  ${formatBytes(hashed)} of ${formatBytes(total)}`);
    },
    done() {
      if (shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}
