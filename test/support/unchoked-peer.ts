// Peer connections for tests that drive a real Downloader or Uploader without a network: a socket that
// records what we write, a connection past the peer's handshake, and a SwarmPeer as the downloader sees
// one after the wire exchange (it handshook, has every piece and unchoked us).
import { Bitfield } from "../../shared/bitfield.ts";
import { decodeMessage, encodeHandshake, encodeMessage, HANDSHAKE_LENGTH } from "../../shared/wire/codec.ts";
import type { WireMessage } from "../../shared/wire/types.ts";
import { PeerConnection } from "../../peer/net/peer-connection.ts";
import { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";

export interface RecordingSocket {
  write(bytes: Uint8Array, offset?: number, length?: number): number;
  end(): void;
}

/** A socket that takes every byte written to it and keeps a copy; `messages` decodes them, after our handshake. */
export function recordingSocket(pieceCount: number): RecordingSocket & { messages(): WireMessage[] } {
  const sent: Uint8Array[] = [];
  return {
    write(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
      sent.push(bytes.slice(offset, offset + length));
      return length;
    },
    end() {},
    messages() {
      const all = new Uint8Array(sent.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of sent) {
        all.set(b, at);
        at += b.length;
      }
      const out: WireMessage[] = [];
      for (let offset = HANDSHAKE_LENGTH; offset < all.length; ) {
        const d = decodeMessage(all, offset, { pieceCount });
        if (!("value" in d)) throw new Error(`a partial message at byte ${offset}`);
        out.push(d.value);
        offset += d.size;
      }
      return out;
    },
  };
}

/** An incoming connection (for a torrent of `pieceCount` pieces, `ourPieces` ours) past the peer's handshake. */
export function handshookConnection(socket: RecordingSocket, pieceCount: number, ourPieces: Bitfield): PeerConnection {
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
  return conn;
}

/** A peer that has every piece and unchoked us. */
export function unchokedSeedPeer(socket: RecordingSocket, pieceCount: number, ourPieces: Bitfield): SwarmPeer {
  const conn = handshookConnection(socket, pieceCount, ourPieces);
  const all = new Bitfield(pieceCount);
  for (let i = 0; i < pieceCount; i++) all.set(i);
  conn.receive(encodeMessage({ type: "bitfield", bits: all.bytes }));
  conn.receive(encodeMessage({ type: "unchoke" }));
  return new SwarmPeer(conn, 1024);
}
