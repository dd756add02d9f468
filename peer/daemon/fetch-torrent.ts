// A .torrent file from an http(s) URL, for the front ends that add by URL (the HTTP API's `url`, the
// qBittorrent API's `urls`): within a size cap and a deadline, redirects followed. Whoever may add
// torrents may make the daemon fetch a URL; nothing else can.
import { DaemonError } from "./control.ts";

export const MAX_TORRENT_FILE = 16 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

/** The file's bytes; DaemonError("bad-torrent") saying why when it cannot be had. */
export async function fetchTorrentFile(url: string): Promise<Uint8Array> {
  if (!/^https?:\/\//i.test(url)) throw new DaemonError("bad-torrent", `${url} is not an http(s) URL`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "follow" });
  } catch (error) {
    throw new DaemonError("bad-torrent", `cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new DaemonError("bad-torrent", `cannot fetch ${url}: HTTP ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > MAX_TORRENT_FILE) throw new DaemonError("bad-torrent", `${url} is larger than ${MAX_TORRENT_FILE / 1024 / 1024} MiB: not a .torrent`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof DaemonError) throw error;
    throw new DaemonError("bad-torrent", `cannot fetch ${url}: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks);
}
