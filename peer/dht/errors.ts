// Errors of the DHT node, by code; the KRPC codec has its own (KrpcError in shared/dht).

export type DhtErrorCode =
  | "busy" // too many queries in flight
  | "non-loopback-destination" // a loopback-only transport (tests) was asked to send elsewhere
  | "bad-table" // a saved routing table that cannot be read
  | "bad-address" // a bootstrap address that is not host:port
  | "no-socket" // no address family could be bound
  | "private-torrent"; // BEP 27: a private torrent was given to the DHT

export class DhtError extends Error {
  override readonly name = "DhtError";
  constructor(
    readonly code: DhtErrorCode,
    message: string,
  ) {
    super(message);
  }
}
