// A SwarmPeer as the downloader sees one after the wire exchange: it handshook, has every piece and unchoked
// us. For tests that drive a real Downloader without a socket; `socket` receives whatever we send it.
import { Bitfield } from "../../shared/bitfield.ts";
import { encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { PeerConnection } from "../../peer/net/peer-connection.ts";
import { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";

export interface RecordingSocket {
  write(bytes: Uint8Array, offset?: number, length?: number): number;
  end(): void;
}

export function unchokedSeedPeer(socket: RecordingSocket, pieceCount: number, ourPieces: Bitfield): SwarmPeer {
  const infoHash = new Uint8Array(20).fill(3);
  const conn = new PeerConnection(
    socket,
    {
      ourPeerId: new Uint8Array(20).fill(1),
      listenPort: 0,
      outgoing: false,
      address: { ip: "127.0.0.1", port: 1 },
      torrent: { infoHash, pieceCount, ourPieces: () => ourPieces },
    },
    { onHandshake: () => null, onMessage() {}, onDrain() {}, onClose() {} },
  );
  conn.receive(encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: new Uint8Array(20).fill(2) }));
  const all = new Bitfield(pieceCount);
  for (let i = 0; i < pieceCount; i++) all.set(i);
  conn.receive(encodeMessage({ type: "bitfield", bits: all.bytes }));
  conn.receive(encodeMessage({ type: "unchoke" }));
  return new SwarmPeer(conn, 1024);
}
