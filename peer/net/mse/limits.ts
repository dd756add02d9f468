// The MSE/PE handshake's deadline and limits, in one place. Sizes the spec fixes live in shared/mse.

export const MSE_LIMITS = {
  /**
   * The whole handshake (both DH values, padding, VC, crypto fields, IA) must finish within this: a peer
   * that stalls in the middle holds a socket and a DH computation. libtorrent allows 10 s by default;
   * a bit more here, for loaded machines.
   */
  handshakeDeadlineMs: 15_000,
  /** Longest IA we accept from an initiator: a BitTorrent handshake plus a little (extension handshake, bitfield). */
  maxInitialPayload: 16 * 1024,
  /** Encryption goes through one scratch buffer of at most this size (larger writes go a slice at a time). */
  scratchBytes: 256 * 1024,
} as const;

export type MseLimits = { [K in keyof typeof MSE_LIMITS]: number };
