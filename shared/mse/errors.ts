// The one error class of the MSE/PE handshake: every code means "close this connection", and says why.

export type MseErrorCode =
  | "bad-public-key" // the peer's DH value is not in 2..P-2 (a degenerate key would fix the secret)
  | "sync-failed" // req1's hash (receiver) or the encrypted VC (initiator) not found within the padding allowed
  | "unknown-info-hash" // req2 XOR req3 names none of our torrents
  | "bad-vc" // the verification constant did not decrypt to zeros: wrong key or not MSE
  | "bad-padding" // a PadC/PadD length over 512
  | "no-common-method" // the peer's crypto_provide and our policy share no method
  | "bad-select" // crypto_select is not exactly one of the methods we offered
  | "handshake-too-large" // more bytes than any valid handshake can hold
  | "closed" // the peer closed the connection during the handshake
  | "timeout"; // the handshake did not finish within its deadline

export class MseError extends Error {
  override readonly name = "MseError";
  constructor(
    readonly code: MseErrorCode,
    message: string,
  ) {
    super(message);
  }
}
