// A .torrent being added through the API or the watch folder: its record for the state store, with the
// request's settings merged in and checked against the torrent.
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { type AddTorrentRequest, DaemonError } from "./control.ts";
import type { TorrentRecord } from "./state-store.ts";
import { mergeSettings } from "./torrent-settings.ts";

/**
 * The record of a .torrent being added, with its settings merged in, and the metainfo parsed from it.
 * Throws DaemonError: bytes that are not a torrent, or settings that do not fit it.
 */
export function torrentRecord(request: AddTorrentRequest, torrent: Uint8Array, savePath: string): { meta: Metainfo; record: TorrentRecord } {
  let meta: Metainfo;
  try {
    meta = parseMetainfo(torrent);
  } catch (error) {
    throw new DaemonError("bad-torrent", `not a valid torrent: ${(error as Error).message}`);
  }
  const { filePriorities, sequential, limits, goals } = request;
  const options = mergeSettings(meta, {}, { filePriorities, sequential, limits, goals });
  const record: TorrentRecord = {
    infoHash: meta.infoHash,
    metainfo: torrent,
    savePath,
    options: options as unknown as TorrentRecord["options"],
    state: request.paused ? "paused" : "downloading",
    addedAt: Date.now(),
  };
  return { meta, record };
}
