// The one error class of the peer wire codec: every code means "drop this peer".

export type WireErrorCode =
  | "bad-protocol" // handshake is not BitTorrent protocol
  | "too-long" // a length prefix over the bound for its message type (nothing buffered for it)
  | "bad-length" // a length that cannot be right for its type (e.g. a `have` that is not 5 bytes)
  | "bad-bitfield" // a bitfield of the wrong size, or with spare bits set
  | "bad-index" // a piece index past the torrent's last piece
  | "bad-request" // a request/cancel for an empty block or one larger than we allow
  | "bad-extension"; // an extension protocol (BEP 10) message that cannot be read

export class WireError extends Error {
  override readonly name = "WireError";
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}
