// BEP 19 URLs: where a web seed keeps each file of a torrent. Single-file: the URL is the file (a URL
// ending in "/" names a folder, the torrent's name is appended). Multi-file: the URL is a folder holding
// a folder named after the torrent, which holds the files by their paths. Each path component is
// percent-encoded on its own, so names with spaces, "#", "?" or non-ASCII letters reach the right file.
import type { Metainfo } from "../../shared/metainfo/types.ts";

type Layout = Pick<Metainfo, "name" | "multiFile" | "files">;

/** True for the URLs a web seed can be: http and https only (BEP 19; `url-list` may hold anything). */
export function isWebSeedUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** The URL of file `index` of the torrent on the web seed at `base`. */
export function fileUrl(base: string, meta: Layout, index: number): string {
  const file = meta.files[index];
  if (!file) throw new RangeError(`file ${index} is not in the torrent`);
  const folder = base.endsWith("/") ? base : `${base}/`;
  if (!meta.multiFile) return base.endsWith("/") ? folder + encode(meta.name) : base;
  return folder + [meta.name, ...file.path].map(encode).join("/");
}

function encode(component: string): string {
  // encodeURIComponent leaves !'()* alone; they are legal in a path, as libtorrent and aria2 send them.
  return encodeURIComponent(component);
}
