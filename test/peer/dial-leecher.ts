// A bare PeerConnection dialled to a peer on loopback as a leecher that has nothing yet: for tests that
// speak to a real client through one connection and a handler of their own.
import type { ConnectionHandler } from "../../peer/net/connection-types.ts";
import { PeerConnection } from "../../peer/net/peer-connection.ts";
import { dialPeer } from "../../peer/net/sockets.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";

export interface DialedLeecher {
  /** The connection once TCP is up (null before, or when the dial failed). */
  readonly conn: PeerConnection | null;
}

/**
 * Dials 127.0.0.1:`port` for `meta`. `failed` runs when TCP cannot connect. `extensions` go into the
 * connection's one extension handshake (libtorrent keeps only the extensions named in the first).
 */
export function dialLeecher(
  meta: Metainfo,
  port: number,
  peerId: string,
  handler: ConnectionHandler,
  failed: (reason: string) => void,
  extensions?: { m: ReadonlyMap<string, number> },
): DialedLeecher {
  const dialed: { conn: PeerConnection | null } = { conn: null };
  const options = {
    ourPeerId: new TextEncoder().encode(peerId.padEnd(20, "0").slice(0, 20)),
    listenPort: 0,
    outgoing: true,
    address: { ip: "127.0.0.1", port },
    torrent: { infoHash: meta.infoHash, pieceCount: meta.pieceCount, ourPieces: () => new Bitfield(meta.pieceCount), ...(extensions ? { extensions } : {}) },
  };
  dialPeer(options.address, (socket) => (dialed.conn = new PeerConnection(socket, options, handler)), failed);
  return dialed;
}
