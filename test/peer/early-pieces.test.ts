// A connection of a magnet link's torrent before its metadata: the piece count is unknown, so the codec
// bounds a bitfield only by the largest count any accepted torrent can have, and the peer's bitfield and
// haves wait aside; when the connection is bound again with the real count (PeerConnection.rebind), they
// become its pieces, or, if they do not fit that count, a protocol error.
import { describe, expect, test } from "bun:test";
import { MAX_UNKNOWN_PIECES } from "../../peer/net/early-pieces.ts";
import { PeerConnection, type ConnectionHandler, type TorrentBinding } from "../../peer/net/peer-connection.ts";
import { Bitfield } from "../../shared/bitfield.ts";
import { decodeHandshake, decodeMessage, encodeHandshake, encodeMessage, FAST_BIT } from "../../shared/wire/codec.ts";
import { WireError } from "../../shared/wire/errors.ts";
import { errorCode } from "../support/error-code.ts";

const INFO_HASH = new Uint8Array(20).fill(9);

const codeOf = (fn: () => unknown) => errorCode(WireError, fn);

describe("wire codec with the piece count unknown", () => {
  const unknown = { pieceCount: MAX_UNKNOWN_PIECES, pieceCountKnown: false };
  test("a bitfield of any length up to the bound is taken, spare bits and all; a longer one is refused", () => {
    const bits = new Uint8Array([0xff, 0xff, 0x01]);
    const decoded = decodeMessage(encodeMessage({ type: "bitfield", bits }), 0, unknown);
    expect("value" in decoded && decoded.value).toEqual({ type: "bitfield", bits });
    const tooLong = new Uint8Array(Math.ceil(MAX_UNKNOWN_PIECES / 8) + 1);
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "bitfield", bits: tooLong }), 0, unknown))).toBe("bad-bitfield");
  });

  test("with the count known, the same bitfield must be exactly its length", () => {
    const bits = new Uint8Array([0xff, 0xff, 0x01]);
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "bitfield", bits }), 0, { pieceCount: 30 }))).toBe("bad-bitfield");
  });
});

/** An open connection of unknown piece count that received `messages` from the peer. */
function earlyConnection(...messages: Parameters<typeof encodeMessage>[0][]) {
  return earlyConnectionWith(false, ...messages);
}

/** The same, with a peer that set BEP 6's fast bit when `fast`. */
function earlyConnectionWith(fast: boolean, ...messages: Parameters<typeof encodeMessage>[0][]) {
  const closed: string[] = [];
  const sent: Uint8Array[] = [];
  const handler: ConnectionHandler = { onHandshake: () => null, onMessage: () => {}, onDrain: () => {}, onClose: (_c, reason) => closed.push(reason) };
  const unknown: TorrentBinding = { infoHash: INFO_HASH, pieceCount: null, ourPieces: () => new Bitfield(0) };
  const socket = {
    write: (d: Uint8Array, o = 0, l = d.length - o) => {
      sent.push(d.slice(o, o + l));
      return l;
    },
    end() {},
  };
  const options = { ourPeerId: new Uint8Array(20).fill(1), listenPort: 0, outgoing: true, address: { ip: "127.0.0.1", port: 1 }, torrent: unknown };
  const conn = new PeerConnection(socket, options, handler);
  const reserved = new Uint8Array(8);
  if (fast) reserved[FAST_BIT.byte] = FAST_BIT.mask;
  conn.receive(encodeHandshake({ reserved, infoHash: INFO_HASH, peerId: new Uint8Array(20).fill(2) }));
  for (const m of messages) conn.receive(encodeMessage(m));
  const rebind = (pieceCount: number) => conn.rebind({ torrent: { infoHash: INFO_HASH, pieceCount, ourPieces: () => new Bitfield(pieceCount) }, handler });
  /** The messages we sent after our handshake. */
  const ourMessages = () => {
    const bytes = Buffer.concat(sent);
    const hs = decodeHandshake(bytes, 0);
    let at = "need" in hs ? 0 : hs.size;
    const out: string[] = [];
    while (at < bytes.length) {
      const d = decodeMessage(bytes, at, { pieceCount: 1 });
      if ("need" in d) break;
      at += d.size;
      out.push(d.value.type);
    }
    return out;
  };
  return { conn, closed, rebind, ourMessages };
}

describe("PeerConnection.rebind", () => {
  test("the bitfield and the haves told before the count was known become the peer's pieces", () => {
    const bits = new Uint8Array([0b1010_0000, 0]);
    const { conn, closed, rebind } = earlyConnection({ type: "bitfield", bits }, { type: "have", index: 9 });
    expect(conn.peerPieces.pieceCount).toBe(0);
    expect(rebind(12)).toBeNull();
    expect([...Array(12).keys()].filter((i) => conn.peerPieces.has(i))).toEqual([0, 2, 9]);
    expect(closed).toEqual([]);
    // From now on messages are bounded by the real count.
    conn.receive(encodeMessage({ type: "have", index: 12 }));
    expect(closed).toEqual(["protocol error: piece index 12 but the torrent has 12 pieces"]);
  });

  test("a bitfield of the wrong length for the real count is a protocol error", () => {
    const { rebind } = earlyConnection({ type: "bitfield", bits: new Uint8Array(3) });
    expect(rebind(12)).toMatchObject({ code: "protocol" });
  });

  test("spare bits set past the real count are a protocol error", () => {
    const { rebind } = earlyConnection({ type: "bitfield", bits: new Uint8Array([0, 0b0000_0001]) });
    expect(rebind(12)).toMatchObject({ code: "protocol" });
  });

  test("with a fast peer, we say have-none while the count is unknown (not have-all, as an empty bitfield of 0 pieces is 'complete')", () => {
    const { ourMessages } = earlyConnectionWith(true);
    expect(ourMessages()).toEqual(["have-none"]);
  });

  test("a fast peer's have-all before the count is known: every piece, once the count is", () => {
    const { conn, rebind } = earlyConnectionWith(true, { type: "have-all" });
    expect(rebind(12)).toBeNull();
    expect(conn.peerPieces.isComplete()).toBe(true);
    expect(conn.peerPieces.count()).toBe(12);
  });

  test("a have past the real count is a protocol error", () => {
    const { rebind } = earlyConnection({ type: "have", index: 40 });
    expect(rebind(12)).toMatchObject({ code: "protocol" });
  });
});
