// The one error class of the UDP tracker codec (BEP 15). Decoders throw nothing else: a tracker drops
// the packet (or answers a connected request with an error packet), a client discards the reply.

export type UdpCodecErrorCode =
  | "too-short" // fewer bytes than the fixed part of the message
  | "bad-protocol-id" // a connect request without the BEP 15 magic number
  | "unknown-action" // an action number this codec does not know
  | "bad-length" // a length that cannot be right for its action (e.g. a scrape with a partial info hash)
  | "bad-event" // an announce event other than 0-3
  | "bad-family"; // compact peers of the wrong size for the address family

export class UdpCodecError extends Error {
  override readonly name = "UdpCodecError";
  constructor(
    readonly code: UdpCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}
