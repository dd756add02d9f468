// Serving our info dictionary (ut_metadata) is bounded per peer: while the kernel takes nothing (a peer that
// does not read), at most MAX_METADATA_ANSWERS_IN_FLIGHT requests get their 16 KiB `data`, the rest a
// `reject`; once the kernel has taken those, requests are answered again. A real PeerConnection over a
// socket whose kernel buffer is full until the test says otherwise.
import { describe, expect, test } from "bun:test";
import { MAX_METADATA_ANSWERS_IN_FLIGHT, MetadataServer } from "../../peer/metadata/metadata-server.ts";
import { PeerConnection, type ConnectionHandler } from "../../peer/net/peer-connection.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import { encode } from "../../shared/bencode.ts";
import { decodeHandshake, decodeMessage, encodeHandshake, encodeMessage } from "../../shared/wire/codec.ts";
import { EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import { decodeMetadataMessage, encodeMetadataMessage, METADATA_PIECE, UT_METADATA } from "../../shared/wire/ut-metadata.ts";

const INFO_HASH = new Uint8Array(20).fill(7);
const THEIR_METADATA_ID = 5;

/** A socket whose kernel buffer takes nothing while `full`; what it took is kept. */
class Socket {
  full = true;
  taken: Uint8Array[] = [];
  write(data: Uint8Array, offset = 0, length = data.length - offset): number {
    if (this.full) return 0;
    this.taken.push(data.slice(offset, offset + length));
    return length;
  }
  end(): void {}
}

/** The ut_metadata answers among what the socket took (after our handshake and extension handshake). */
function answers(socket: Socket): string[] {
  const bytes = new Uint8Array(socket.taken.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of socket.taken) {
    bytes.set(b, at);
    at += b.length;
  }
  socket.taken = [];
  const out: string[] = [];
  let offset = 0;
  if (bytes[0] === 19) {
    const hs = decodeHandshake(bytes, 0); // the first time: our handshake went out first
    if (!("need" in hs)) offset = hs.size;
  }
  while (offset < bytes.length) {
    const decoded = decodeMessage(bytes, offset, { pieceCount: 1 });
    if ("need" in decoded) throw new Error("a partial message");
    offset += decoded.size;
    const m = decoded.value;
    if (m.type === "extended" && m.id === THEIR_METADATA_ID) out.push(decodeMetadataMessage(m.payload).kind);
  }
  return out;
}

describe("MetadataServer", () => {
  test("at most a few answers wait for the kernel per peer; the rest are rejected until it takes them", () => {
    const info = new Uint8Array(3 * METADATA_PIECE).fill(1);
    const server = new MetadataServer(info);
    const socket = new Socket();
    const handler: ConnectionHandler = { onHandshake: () => null, onMessage: () => {}, onDrain: () => {}, onClose: () => {} };
    const torrent = { infoHash: INFO_HASH, pieceCount: 1, ourPieces: () => new Bitfield(1) };
    const conn = new PeerConnection(
      socket,
      { ourPeerId: new Uint8Array(20).fill(1), listenPort: 0, outgoing: true, address: { ip: "127.0.0.1", port: 1 }, torrent },
      handler,
    );
    const reserved = new Uint8Array(8);
    reserved[5] = 0x10;
    conn.receive(encodeHandshake({ reserved, infoHash: INFO_HASH, peerId: new Uint8Array(20).fill(2) }));
    conn.receive(encodeMessage({ type: "extended", id: EXTENSION_HANDSHAKE_ID, payload: encode({ m: { [UT_METADATA]: THEIR_METADATA_ID } }) }));
    const request = (piece: number) => server.received(conn, encodeMetadataMessage({ kind: "request", piece }));

    for (let i = 0; i < 10; i++) request(i % 3);
    socket.full = false;
    conn.drained();
    const first = answers(socket);
    expect(first.filter((k) => k === "data")).toHaveLength(MAX_METADATA_ANSWERS_IN_FLIGHT);
    expect(first.filter((k) => k === "reject")).toHaveLength(10 - MAX_METADATA_ANSWERS_IN_FLIGHT);

    // The kernel took them: a reading peer is answered every time.
    for (let i = 0; i < 10; i++) request(i % 3);
    expect(answers(socket)).toEqual(Array(10).fill("data"));
    request(3); // past the end
    expect(answers(socket)).toEqual(["reject"]);
  });
});
