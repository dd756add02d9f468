// ut_metadata (BEP 9): the info dictionary of a torrent, fetched from peers in 16 KiB pieces so that a
// magnet link (which carries only the info hash) becomes a torrent. Each message is a bencoded dictionary,
// followed by the piece's raw bytes for `data`. Pure codec: the fetcher that drives it checks the
// assembled bytes against the info hash before trusting any of them.
import { BencodeError, decodePrefix, encode, type BDict, type BValue } from "../bencode.ts";
import { WireError } from "./errors.ts";

/** The extension's name in the extension handshake's `m`. */
export const UT_METADATA = "ut_metadata";

/** Metadata travels in pieces of 16 KiB; only the last may be shorter. */
export const METADATA_PIECE = 16 * 1024;

/**
 * Largest info dictionary we fetch or serve. libtorrent caps it at 4 MiB by default; a torrent of many
 * thousands of files stays far below, and an absurd `metadata_size` from a peer is refused up front.
 */
export const MAX_METADATA_SIZE = 4 * 1024 * 1024;

export type MetadataMessage =
  | { kind: "request"; piece: number }
  /** `data` is a view into the payload: copy it if it must outlive the message. */
  | { kind: "data"; piece: number; totalSize: number; data: Uint8Array }
  | { kind: "reject"; piece: number };

const MSG_TYPE = { request: 0, data: 1, reject: 2 } as const;

/** Pieces an info dictionary of `size` bytes takes. */
export function metadataPieceCount(size: number): number {
  return Math.ceil(size / METADATA_PIECE);
}

/** Length of piece `piece` of an info dictionary of `size` bytes. */
export function metadataPieceLength(size: number, piece: number): number {
  return Math.min(METADATA_PIECE, size - piece * METADATA_PIECE);
}

/** True when a peer's advertised `metadata_size` is one we accept to fetch. */
export function isAcceptableMetadataSize(size: number): boolean {
  return Number.isSafeInteger(size) && size > 0 && size <= MAX_METADATA_SIZE;
}

/**
 * Reads one ut_metadata message (the extended message's payload). Anything malformed is a WireError
 * `bad-extension`: a message type we do not know, a piece index that is not a whole number, a `data`
 * message whose bytes do not fit its piece of `total_size`.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  let head: { value: BValue; end: number };
  try {
    head = decodePrefix(payload, { strictKeyOrder: false, maxDepth: 4 });
  } catch (error) {
    if (error instanceof BencodeError) throw bad(`not bencode: ${error.message}`);
    throw error;
  }
  const dict = head.value;
  if (typeof dict !== "object" || dict === null || dict instanceof Uint8Array || Array.isArray(dict)) throw bad("not a dictionary");
  const piece = wholeNumber(dict, "piece");
  const type = wholeNumber(dict, "msg_type");
  const rest = payload.subarray(head.end);
  switch (type) {
    case MSG_TYPE.request:
    case MSG_TYPE.reject:
      if (rest.length > 0) throw bad(`${rest.length} bytes after a ${type === 0 ? "request" : "reject"}`);
      return { kind: type === 0 ? "request" : "reject", piece };
    case MSG_TYPE.data: {
      const totalSize = wholeNumber(dict, "total_size");
      if (!isAcceptableMetadataSize(totalSize)) throw bad(`total_size ${totalSize} is not 1..${MAX_METADATA_SIZE}`);
      if (piece >= metadataPieceCount(totalSize)) throw bad(`piece ${piece} is past the end of ${totalSize} bytes`);
      const expected = metadataPieceLength(totalSize, piece);
      if (rest.length !== expected) throw bad(`piece ${piece} of ${totalSize} bytes must carry ${expected} bytes, not ${rest.length}`);
      return { kind: "data", piece, totalSize, data: rest };
    }
    default:
      throw bad(`unknown msg_type ${type}`);
  }
}

/** The extended message payload for `m` (the dictionary, then the piece's bytes for `data`). */
export function encodeMetadataMessage(m: MetadataMessage): Uint8Array {
  const head = encode(
    m.kind === "data" ? { msg_type: MSG_TYPE.data, piece: m.piece, total_size: m.totalSize } : { msg_type: MSG_TYPE[m.kind], piece: m.piece },
  );
  if (m.kind !== "data") return head;
  const out = new Uint8Array(head.length + m.data.length);
  out.set(head);
  out.set(m.data, head.length);
  return out;
}

function wholeNumber(dict: BDict, key: string): number {
  const v = dict[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw bad(`${key} must be a whole number`);
  return v;
}

function bad(what: string): WireError {
  return new WireError("bad-extension", `ut_metadata: ${what}`);
}
