// Serving our info dictionary to peers (ut_metadata, BEP 9): a `request` in range gets its piece as
// `data`, anything else a `reject`. Bounded per peer: at most a few answers waiting for the kernel at once
// (the rest are rejected), so a peer cannot make 30-byte requests cost us 16 KiB each without limit.
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE,
  metadataPieceCount,
  UT_METADATA,
  type MetadataMessage,
} from "../../shared/wire/ut-metadata.ts";
import type { PeerConnection } from "../net/peer-connection.ts";

/** Answers to one peer not yet taken by the kernel, at most. */
export const MAX_METADATA_ANSWERS_IN_FLIGHT = 4;

export class MetadataServer {
  /** Connection id → answers in flight. */
  private readonly inFlight = new Map<number, number>();

  /** `infoBytes`: the dictionary to serve; null while we have none (a magnet's metadata phase): every request is rejected. */
  constructor(private readonly infoBytes: Uint8Array | null) {}

  /** A ut_metadata message the peer sent on our extended id. Throws WireError when malformed (a protocol error). */
  received(conn: PeerConnection, payload: Uint8Array): MetadataMessage {
    const message = decodeMetadataMessage(payload);
    if (message.kind === "request") this.answer(conn, message.piece);
    return message;
  }

  forget(conn: PeerConnection): void {
    this.inFlight.delete(conn.id);
  }

  private answer(conn: PeerConnection, piece: number): void {
    const theirId = conn.peerExtensions?.m.get(UT_METADATA);
    if (theirId === undefined) return; // it never told us where to send ut_metadata messages
    const bytes = this.infoBytes;
    const busy = this.inFlight.get(conn.id) ?? 0;
    if (!bytes || piece >= metadataPieceCount(bytes.length) || busy >= MAX_METADATA_ANSWERS_IN_FLIGHT) {
      conn.send({ type: "extended", id: theirId, payload: encodeMetadataMessage({ kind: "reject", piece }) });
      return;
    }
    this.inFlight.set(conn.id, busy + 1);
    const data = bytes.subarray(piece * METADATA_PIECE, Math.min(bytes.length, (piece + 1) * METADATA_PIECE));
    const payload = encodeMetadataMessage({ kind: "data", piece, totalSize: bytes.length, data });
    conn.send({ type: "extended", id: theirId, payload }, () => {
      const left = (this.inFlight.get(conn.id) ?? 1) - 1;
      if (left > 0) this.inFlight.set(conn.id, left);
      else this.inFlight.delete(conn.id);
    });
  }
}
