// `download` of a magnet link: a client with the link's torrent, whose metadata is fetched from peers
// first (metadata/magnet-torrent.ts); once it is verified the storage is opened (and the .torrent saved
// with --save-torrent) and the same client, on the same port and with the same peers, downloads it.
import * as fs from "node:fs";
import { MagnetError, parseMagnet, type MagnetLink } from "../../shared/magnet.ts";
import { ListenError } from "../net/sockets.ts";
import { StorageError, TorrentStorage } from "../storage/index.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Torrent } from "../torrent/torrent.ts";
import type { MagnetTorrent } from "../metadata/magnet-torrent.ts";
import {
  CliError,
  enableDht,
  oneTorrentClient,
  parsePeerAddress,
  priorities,
  reporting,
  saveDhtState,
  untilFinished,
  type RunOptions,
} from "./torrent-runner.ts";

export interface MagnetRunOptions extends Omit<RunOptions, "requireComplete"> {
  /** --save-torrent: where the .torrent made from the fetched metadata is written. */
  saveTorrent?: string;
}

export async function runMagnet(options: MagnetRunOptions): Promise<number> {
  const { report, fail } = reporting(options);
  let link: MagnetLink;
  try {
    link = parseMagnet(options.torrentPath);
  } catch (error) {
    if (error instanceof MagnetError) return fail("bad-torrent", error.message);
    throw error;
  }
  const poolBytes = options.poolMiB * 1024 * 1024;
  const client = oneTorrentClient(options, report);
  try {
    client.start();
  } catch (error) {
    if (error instanceof ListenError) return fail(error.code, error.message);
    throw error;
  }
  // The DHT finds the peers of a link that names no tracker (a private torrent's metadata, once in, keeps it off).
  if (options.dht) await enableDht(client, options.dht, report);
  const magnet = client.addMagnet({
    link,
    peers: [...link.peers.map(parsePeerAddress), ...options.peers],
    maxPeers: options.maxPeers,
    onEvent: report,
    prepare: async (meta, torrentFile) => {
      if (options.saveTorrent !== undefined) {
        try {
          fs.writeFileSync(options.saveTorrent, torrentFile);
        } catch (error) {
          return { code: "unwritable", message: `cannot write --save-torrent ${options.saveTorrent}: ${(error as Error).message}` };
        }
      }
      for (const warning of meta.warnings) report({ event: "warning", message: warning });
      try {
        // --only / --skip name file indices, which only the metadata gives meaning to.
        const filePriorities = priorities(meta, options.files);
        const storage = TorrentStorage.open(meta, options.dir, { skipped: filePriorities.map((p) => p === "skip") });
        // The torrent checks what is on disk itself; pieces lying wholly in what open() created are known missing.
        const check = (i: number) => storage.mayHoldData(i);
        const { maxPeers, seed, uploadLimit, downloadLimit, sequential, goals } = options;
        return {
          meta,
          storage,
          have: new Bitfield(meta.pieceCount),
          dir: options.dir,
          check,
          poolBytes,
          peers: [],
          onEvent: report,
          filePriorities,
          ...{ maxPeers, seed, uploadLimit, downloadLimit, sequential, goals },
        };
      } catch (error) {
        if (error instanceof StorageError || error instanceof CliError) return { code: error.code, message: error.message };
        throw error;
      }
    },
  });
  let current: MagnetTorrent | Torrent = magnet;
  magnet.start();
  const code = await untilFinished(
    () => current,
    magnet.finished.then((outcome) => {
      if (!("torrent" in outcome)) return outcome.code;
      current = outcome.torrent;
      return outcome.torrent.finished;
    }),
  );
  saveDhtState(client, options.dht?.statePath);
  await client.stop();
  return code;
}
