// The handshake phase's bytes (BEP 3 with BEP 5, 6 and 10's reserved bits): our handshake, what refuses
// the peer's before any handler sees it, and what follows once the connection is open. Encoding only: the
// connection sends what these return, in that order.
import { bytesEqual } from "../../shared/bytes.ts";
import { DHT_BIT, encodeHandshake, encodeMessage, FAST_BIT, supportsDht } from "../../shared/wire/codec.ts";
import { EXTENSION_BIT, EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import type { CloseReason } from "./close-reason.ts";
import type { TorrentBinding } from "./connection-binding.ts";
import { ourExtensionHandshake } from "./extension-handshake.ts";
import { firstPiecesMessage } from "./piece-announcement.ts";

const HAVE_NONE: WireMessage = { type: "have-none" };

/** Our handshake for `torrent`: the extension protocol and the fast extension always, the DHT when the torrent uses our node. */
export function ourHandshake(torrent: TorrentBinding, ourPeerId: Uint8Array): Uint8Array {
  const reserved = new Uint8Array(8);
  reserved[EXTENSION_BIT.byte] = EXTENSION_BIT.mask;
  if (torrent.dhtPort?.()) reserved[DHT_BIT.byte]! |= DHT_BIT.mask;
  reserved[FAST_BIT.byte]! |= FAST_BIT.mask;
  return encodeHandshake({ reserved, infoHash: torrent.infoHash, peerId: ourPeerId });
}

/**
 * Why the peer's handshake ends the connection at once, or null: it names another torrent than the one
 * the connection serves, or carries our own peer id (our dial came back to us).
 */
export function handshakeRefusal(handshake: Handshake, torrent: TorrentBinding | null, ourPeerId: Uint8Array): CloseReason | null {
  if (torrent && !bytesEqual(handshake.infoHash, torrent.infoHash)) return { code: "wrong-info-hash" };
  if (bytesEqual(handshake.peerId, ourPeerId)) return { code: "self" };
  return null;
}

/** Our own handshake echoed to ourselves: answering in kind lets the dialling end see it too (and never retry). */
export function selfEcho(handshake: Handshake, ourPeerId: Uint8Array): Uint8Array {
  return encodeHandshake({ ...handshake, peerId: ourPeerId });
}

/** Our extension handshake (BEP 10) as an `extended` message. */
export function extensionHandshakeMessage(listenPort: number, torrent: TorrentBinding): Uint8Array {
  return encodeMessage({ type: "extended", id: EXTENSION_HANDSHAKE_ID, payload: ourExtensionHandshake(listenPort, torrent.extensions) });
}

/**
 * What goes out once both handshakes are in, after ours: BEP 3 wants the bitfield first, the extension
 * handshake follows it, then a `port` for a peer with the DHT bit (BEP 5). A torrent whose piece count is
 * unknown (a magnet's metadata phase) has nothing: it says so with BEP 6, or says nothing.
 */
export function openingMessages(torrent: TorrentBinding, peer: { reserved: Uint8Array; fast: boolean; extensions: boolean }, listenPort: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pieces = torrent.pieceCount === null ? (peer.fast ? HAVE_NONE : null) : firstPiecesMessage(torrent.ourPieces(), peer.fast);
  if (pieces) out.push(encodeMessage(pieces));
  if (peer.extensions) out.push(extensionHandshakeMessage(listenPort, torrent));
  const dhtPort = torrent.dhtPort?.();
  if (dhtPort && supportsDht(peer.reserved)) out.push(encodeMessage({ type: "port", port: dhtPort }));
  return out;
}
