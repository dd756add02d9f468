// A .torrent file with other trackers: `announce` and `announce-list` (BEP 12 tiers) replaced, every other
// entry kept byte for byte. The info dictionary above all: its bytes are the torrent's identity (its SHA-1),
// and a re-encoding could change them (a sloppy tool's unsorted keys).
import { decodeDict, encode } from "../bencode.ts";
import { concatBytes } from "../bytes.ts";

const ANNOUNCE = "announce";
const ANNOUNCE_LIST = "announce-list";

/** The bytes of `torrent` (a .torrent that parses) with `tiers` as its trackers; no tier at all drops both keys. */
export function withTrackers(torrent: Uint8Array, tiers: readonly (readonly string[])[]): Uint8Array {
  const { entries } = decodeDict(torrent, { strictKeyOrder: false }); // as parseMetainfo reads it
  const decoder = new TextDecoder();
  const kept = entries
    .filter((e) => {
      const key = decoder.decode(e.key);
      return key !== ANNOUNCE && key !== ANNOUNCE_LIST;
    })
    .map((e) => ({ key: e.key, value: torrent.subarray(e.start, e.end) }));
  const used = tiers.filter((tier) => tier.length > 0).map((tier) => [...tier]);
  if (used.length > 0) {
    const text = new TextEncoder();
    kept.push({ key: text.encode(ANNOUNCE), value: encode(used[0]![0]!) });
    kept.push({ key: text.encode(ANNOUNCE_LIST), value: encode(used) });
  }
  kept.sort((a, b) => compareBytes(a.key, b.key)); // keys in raw byte order, as bencode wants them
  const parts: Uint8Array[] = [Uint8Array.of(0x64)]; // "d"
  for (const { key, value } of kept) parts.push(encode(key), value);
  parts.push(Uint8Array.of(0x65)); // "e"
  return concatBytes(parts);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
