// A .torrent file around an info dictionary fetched from peers (BEP 9): the info dictionary's bytes go in
// as they are (re-encoding could change them, and its SHA-1 is the torrent's identity), with the magnet
// link's trackers as `announce` and `announce-list` (one tier per tracker, as the link lists them).
import { encode } from "../bencode.ts";

/** The bytes of a .torrent whose info dictionary is exactly `infoBytes`. */
export function torrentFileFromInfo(infoBytes: Uint8Array, trackers: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x64)]; // "d"; keys in byte order: announce, announce-list, info
  if (trackers.length > 0) {
    parts.push(encode("announce"), encode(trackers[0]!));
    parts.push(encode("announce-list"), encode(trackers.map((t) => [t])));
  }
  parts.push(encode("info"), infoBytes, Uint8Array.of(0x65)); // "e"
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
