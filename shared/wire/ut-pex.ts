// ut_pex (BEP 11): peers tell each other whom they are connected to. One message is a bencoded
// dictionary of compact peer lists, added and dropped since the last message, per address family, with
// one flags byte per added peer. Pure codec: the peer directory that learns from it bounds what it keeps.
import { BencodeError, decode, encode, type BDict, type BEncodable, type BValue } from "../bencode.ts";
import { decodeCompactPeers, encodeCompactPeer, isIPv6, type PeerAddress } from "../compact.ts";
import { WireError } from "./errors.ts";

/** The extension's name in the extension handshake's `m`. */
export const UT_PEX = "ut_pex";

/** Flags of an added peer (BEP 11). */
export const PexFlag = {
  /** Prefers encrypted connections. */
  encryption: 0x01,
  /** A seed, or upload only. */
  seed: 0x02,
  utp: 0x04,
  holepunch: 0x08,
  /** We reached it with an outgoing connection: it accepts incoming ones. */
  reachable: 0x10,
} as const;

/**
 * Most peers one message may add or drop per family. BEP 11 asks senders for at most 50; libtorrent
 * also sends about that many. A reader keeps the first ones of a longer list and ignores the rest, so a
 * hostile peer cannot make one message cost more than this.
 */
export const MAX_PEX_PEERS = 100;

export interface PexPeer extends PeerAddress {
  flags: number;
}

export interface PexMessage {
  added: PexPeer[];
  dropped: PeerAddress[];
}

/**
 * Reads one ut_pex message. A payload that is not a dictionary is a WireError `bad-extension`; a list of
 * the wrong length or type is ignored as a whole (the message still counts), and each list is cut to
 * MAX_PEX_PEERS. IPv4 and IPv6 peers come together in `added` and `dropped`.
 */
export function decodePexMessage(payload: Uint8Array): PexMessage {
  let value: BValue;
  try {
    value = decode(payload, { strictKeyOrder: false, maxDepth: 4 });
  } catch (error) {
    if (error instanceof BencodeError) throw new WireError("bad-extension", `ut_pex: not bencode: ${error.message}`);
    throw error;
  }
  if (typeof value !== "object" || value === null || value instanceof Uint8Array || Array.isArray(value)) {
    throw new WireError("bad-extension", "ut_pex: not a dictionary");
  }
  return {
    added: [...addedOf(value, "added", 4), ...addedOf(value, "added6", 6)],
    dropped: [...peersOf(value.dropped, 4), ...peersOf(value.dropped6, 6)],
  };
}

/** One ut_pex message; peers are sorted into IPv4 and IPv6 lists. Throws RangeError past MAX_PEX_PEERS per family. */
export function encodePexMessage(m: PexMessage): Uint8Array {
  const v4 = m.added.filter((p) => !isIPv6(p.ip));
  const v6 = m.added.filter((p) => isIPv6(p.ip));
  const dropped4 = m.dropped.filter((p) => !isIPv6(p.ip));
  const dropped6 = m.dropped.filter((p) => isIPv6(p.ip));
  for (const list of [v4, v6, dropped4, dropped6]) {
    if (list.length > MAX_PEX_PEERS) throw new RangeError(`a ut_pex message carries at most ${MAX_PEX_PEERS} peers per list, not ${list.length}`);
  }
  const dict: Record<string, BEncodable> = {
    added: compact(v4),
    "added.f": new Uint8Array(v4.map((p) => p.flags & 0xff)),
    dropped: compact(dropped4),
  };
  if (v6.length > 0 || dropped6.length > 0) {
    dict.added6 = compact(v6);
    dict["added6.f"] = new Uint8Array(v6.map((p) => p.flags & 0xff));
    dict.dropped6 = compact(dropped6);
  }
  return encode(dict);
}

function addedOf(dict: BDict, key: "added" | "added6", family: 4 | 6): PexPeer[] {
  const size = family === 4 ? 6 : 18;
  const list = dict[key];
  if (!(list instanceof Uint8Array) || list.length % size !== 0) return [];
  const flagsValue = dict[`${key}.f`];
  const flags = flagsValue instanceof Uint8Array ? flagsValue : new Uint8Array();
  const peers: PexPeer[] = [];
  const count = Math.min(list.length / size, MAX_PEX_PEERS);
  for (let i = 0; i < count; i++) {
    const [peer] = decodeCompactPeers(list.subarray(i * size, (i + 1) * size), family);
    // A zero port cannot be dialled: skipped, as in tracker replies.
    if (peer) peers.push({ ...peer, flags: flags[i] ?? 0 });
  }
  return peers;
}

function peersOf(list: BValue | undefined, family: 4 | 6): PeerAddress[] {
  const size = family === 4 ? 6 : 18;
  if (!(list instanceof Uint8Array) || list.length % size !== 0) return [];
  return decodeCompactPeers(list.subarray(0, Math.min(list.length, MAX_PEX_PEERS * size)), family);
}

function compact(peers: readonly PeerAddress[]): Uint8Array {
  const out = new Uint8Array(peers.reduce((n, p) => n + (isIPv6(p.ip) ? 18 : 6), 0));
  let at = 0;
  for (const p of peers) {
    const bytes = encodeCompactPeer(p);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
