// A .torrent file around an info dictionary that came from elsewhere: fetched from peers (BEP 9), or handed
// to a waiting magnet link by a .torrent added for its info hash. The info dictionary's bytes go in as they
// are (re-encoding could change them, and its SHA-1 is the torrent's identity), with the trackers as
// `announce` and `announce-list` (BEP 12 tiers) and the web seeds as `url-list` (BEP 19).
import { encode } from "../bencode.ts";

/** The bytes of a .torrent whose info dictionary is exactly `infoBytes`. */
export function torrentFileFromInfo(infoBytes: Uint8Array, tiers: readonly (readonly string[])[], urlList: readonly string[] = []): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x64)]; // "d"; keys in byte order: announce, announce-list, info, url-list
  const announce = tiers.find((tier) => tier.length > 0)?.[0];
  if (announce !== undefined) {
    parts.push(encode("announce"), encode(announce));
    parts.push(encode("announce-list"), encode(tiers.filter((tier) => tier.length > 0).map((tier) => [...tier])));
  }
  parts.push(encode("info"), infoBytes);
  if (urlList.length > 0) parts.push(encode("url-list"), encode([...urlList]));
  parts.push(Uint8Array.of(0x65)); // "e"
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Tracker tiers of `ours` followed by those of `theirs` that add a tracker (qBittorrent's merge of a duplicate
 * add's trackers): a URL already in `ours` is left out, and a tier left empty goes.
 */
export function mergeTiers(ours: readonly (readonly string[])[], theirs: readonly (readonly string[])[]): string[][] {
  const known = new Set(ours.flat());
  const merged = ours.map((tier) => [...tier]);
  for (const tier of theirs) {
    const fresh: string[] = [];
    for (const url of tier) {
      if (known.has(url)) continue;
      known.add(url);
      fresh.push(url);
    }
    merged.push(fresh);
  }
  return merged.filter((tier) => tier.length > 0);
}
