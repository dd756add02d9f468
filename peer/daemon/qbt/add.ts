// `torrents/add`: .torrent files from the multipart form (under any field name: the web UI sends
// `torrents`, @ctrl/qbittorrent sends `file`, and qBittorrent takes both), and `urls` (one a line): magnet links, or
// http(s) URLs of .torrent files, fetched with a size cap and a deadline. Options map onto the daemon's
// AddTorrentRequest; a category's save path applies when no savepath is given. qBittorrent answers
// "Ok." when at least one torrent was added and "Fails." otherwise; so do we.
import { DaemonError, type AddTorrentRequest } from "../control.ts";
import { fetchTorrentFile, MAX_TORRENT_FILE } from "../fetch-torrent.ts";
import type { TorrentRouteOptions } from "./torrent-routes.ts";
import { cleanTag } from "./labels.ts";
import type { Params } from "./params.ts";

export async function addTorrents(p: Params, options: TorrentRouteOptions): Promise<number> {
  const { control, labels } = options;
  const category = p.text("category") ?? "";
  if (category !== "" && !labels.category(category)) labels.createCategory(category, "");
  const tags = (p.text("tags") ?? "")
    .split(",")
    .map(cleanTag)
    .filter((t): t is string => t !== null);
  const savePath = p.text("savepath") || labels.category(category)?.savePath || options.defaultSavePath;
  const upLimit = p.number("upLimit");
  const dlLimit = p.number("dlLimit");
  const ratio = p.number("ratioLimit");
  const minutes = p.number("seedingTimeLimit");
  const base: Omit<AddTorrentRequest, "source"> = {
    savePath,
    paused: p.bool("paused") ?? p.bool("stopped") ?? false,
    sequential: p.bool("sequentialDownload") ?? false,
    limits: {
      ...(upLimit !== undefined ? { uploadLimit: upLimit > 0 ? upLimit : null } : {}),
      ...(dlLimit !== undefined ? { downloadLimit: dlLimit > 0 ? dlLimit : null } : {}),
    },
    goals: {
      ...(ratio !== undefined ? { ratioLimit: ratio < 0 ? null : ratio } : {}),
      ...(minutes !== undefined ? { seedTimeLimit: minutes < 0 ? null : minutes * 60 } : {}),
    },
  };
  const sources: AddTorrentRequest["source"][] = [];
  for (const file of p.files()) {
    if (file.size > MAX_TORRENT_FILE) continue;
    sources.push({ torrent: new Uint8Array(await file.arrayBuffer()) });
  }
  for (const line of (p.text("urls") ?? "").split(/\r?\n/)) {
    const url = line.trim();
    if (url === "") continue;
    if (url.toLowerCase().startsWith("magnet:")) sources.push({ magnet: url });
    else if (/^https?:\/\//i.test(url)) {
      const bytes = await fetchTorrent(url);
      if (bytes) sources.push({ torrent: bytes });
    }
  }
  let added = 0;
  for (const source of sources) {
    try {
      const hash = await control.add({ ...base, source });
      if (category !== "") labels.setCategory([hash], category);
      if (tags.length > 0) labels.addTags([hash], tags);
      added++;
    } catch (error) {
      // A bad or duplicate torrent among several does not stop the others, as in qBittorrent.
      if (!(error instanceof DaemonError)) throw error;
    }
  }
  return added;
}

/** The .torrent at an http(s) URL, or null when it cannot be had within the caps. */
async function fetchTorrent(url: string): Promise<Uint8Array | null> {
  try {
    return await fetchTorrentFile(url);
  } catch (error) {
    if (error instanceof DaemonError) return null;
    throw error;
  }
}
