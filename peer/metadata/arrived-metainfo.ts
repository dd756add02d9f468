// The .torrent a magnet link's torrent goes on with once its info dictionary is in, fetched or supplied:
// the dictionary's bytes as they came, with the trackers and web seeds, parsed as any .torrent is.
import { torrentFileFromInfo } from "../../shared/metainfo/from-info.ts";
import { MetainfoError } from "../../shared/metainfo/errors.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";

/** The parsed torrent and its file, or `bad-torrent` when the verified dictionary is not a valid torrent. */
export function arrivedMetainfo(
  infoBytes: Uint8Array,
  tiers: string[][],
  urlList: string[],
): { meta: Metainfo; torrentFile: Uint8Array } | { code: "bad-torrent"; message: string } {
  const torrentFile = torrentFileFromInfo(infoBytes, tiers, urlList);
  let meta: Metainfo;
  try {
    meta = parseMetainfo(torrentFile);
  } catch (error) {
    if (!(error instanceof MetainfoError)) throw error;
    return { code: "bad-torrent", message: `the metadata peers sent matches the info hash but is not a valid torrent: ${error.message}` };
  }
  return { meta, torrentFile };
}
