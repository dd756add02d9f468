// The one error class of the KRPC codec (BEP 5). Decoders throw nothing else, so a node can drop a bad
// packet, or answer a query it could half read with a KRPC error (203) under the query's own `t`.

export type KrpcErrorCode =
  | "not-bencode" // the packet is not one bencoded value
  | "not-a-dict" // a message (or its `a`/`r` part) that is not a dictionary
  | "missing-field" // a field the message type needs is absent
  | "bad-field" // a field of the wrong type, size or range
  | "unknown-type" // `y` other than q, r or e
  | "not-encodable"; // (encoding) a value the wire cannot carry, e.g. an id that is not 20 bytes

export class KrpcError extends Error {
  override readonly name = "KrpcError";
  constructor(
    readonly code: KrpcErrorCode,
    message: string,
    /** The message's transaction id when it could be read: lets a node answer a bad query with an error. */
    readonly transactionId?: Uint8Array,
    /** True when the bad message was a query (`y` = q), the only kind that is ever answered. */
    readonly wasQuery = false,
  ) {
    super(message);
  }
}
