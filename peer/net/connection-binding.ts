// What a connection knows of the torrent it serves, as one state: nothing yet (an incoming connection
// before the peer's handshake names one), the torrent, or the torrent while its piece count is unknown (a
// magnet link's before its metadata: the peer's pieces wait aside in EarlyPieces). The moves between them
// are `bind` (the peer's handshake named it) and `rebind` (the metadata gave the count); any other is a
// bug and throws.
import { bytesEqual } from "../../shared/bytes.ts";
import type { Bitfield } from "../../shared/bitfield.ts";
import { EarlyPieces } from "./early-pieces.ts";

/** The torrent a connection serves. */
export interface TorrentBinding {
  infoHash: Uint8Array;
  /**
   * null while it is not known: a magnet link's torrent before its metadata. The peer's `bitfield` and
   * `have`s are then kept aside (EarlyPieces) and checked when the connection is bound again with the count.
   */
  pieceCount: number | null;
  /** Our pieces, sent as a bitfield right after the handshake. */
  ourPieces: () => Bitfield;
  /**
   * Our DHT node's UDP port, when this torrent uses the DHT (not a private one, BEP 27): our handshake
   * then sets the DHT bit, and a peer that sets it too gets a BEP 5 `port` message.
   */
  dhtPort?: () => number | undefined;
  /**
   * Extensions we receive (name → our extended id) and the info dictionary's size, for our extension
   * handshake. They must all be in that first handshake: libtorrent drops, for the whole connection, every
   * extension a peer's first handshake leaves out. Default: those of extension-handshake.ts.
   */
  extensions?: { m: ReadonlyMap<string, number>; metadataSize?: number };
}

export type Binding =
  | { readonly kind: "unbound" }
  | { readonly kind: "bound"; readonly torrent: TorrentBinding }
  | { readonly kind: "count-unknown"; readonly torrent: TorrentBinding; readonly early: EarlyPieces };

const UNBOUND: Binding = { kind: "unbound" };

/** The state of a connection born knowing `torrent` (or not). */
export function bindingFor(torrent: TorrentBinding | undefined): Binding {
  if (!torrent) return UNBOUND;
  return torrent.pieceCount === null ? { kind: "count-unknown", torrent, early: new EarlyPieces() } : { kind: "bound", torrent };
}

/** The torrent served, null while unbound. */
export function boundTorrent(binding: Binding): TorrentBinding | null {
  return binding.kind === "unbound" ? null : binding.torrent;
}

/** The peer's handshake named `named` and its handler adopted the connection for `torrent`. */
export function bind(current: Binding, torrent: TorrentBinding, named: Uint8Array): Binding {
  if (current.kind !== "unbound") throw new Error("PeerConnection: torrent bound twice");
  if (!bytesEqual(torrent.infoHash, named)) throw new Error("PeerConnection: bound to a torrent the peer did not name");
  return bindingFor(torrent);
}

/** A torrent of unknown piece count is known now (`torrent`, the same info hash): the pieces the peer told wait in `early`. */
export function rebind(current: Binding, torrent: TorrentBinding): { binding: Binding; pieceCount: number; early: EarlyPieces } {
  const count = torrent.pieceCount;
  if (current.kind !== "count-unknown" || count === null) throw new Error("PeerConnection: rebind needs an open connection of unknown piece count");
  if (!bytesEqual(torrent.infoHash, current.torrent.infoHash)) throw new Error("PeerConnection: rebound to another torrent");
  return { binding: { kind: "bound", torrent }, pieceCount: count, early: current.early };
}
