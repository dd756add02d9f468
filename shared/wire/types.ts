// Peer wire messages (BEP 3). The codec in this folder turns bytes into these and back; it does no I/O.

export const BLOCK_SIZE = 16 * 1024;

export const enum MessageId {
  Choke = 0,
  Unchoke = 1,
  Interested = 2,
  NotInterested = 3,
  Have = 4,
  Bitfield = 5,
  Request = 6,
  Piece = 7,
  Cancel = 8,
  Port = 9,
  // The fast extension (BEP 6): only between peers that both set its reserved bit.
  Suggest = 13,
  HaveAll = 14,
  HaveNone = 15,
  Reject = 16,
  AllowedFast = 17,
  Extended = 20,
}

export type WireMessage =
  | { type: "keep-alive" }
  | { type: "choke" }
  | { type: "unchoke" }
  | { type: "interested" }
  | { type: "not-interested" }
  | { type: "have"; index: number }
  /** `bits` is a view into the input bytes: copy it if it must outlive the chunk. */
  | { type: "bitfield"; bits: Uint8Array }
  | { type: "request"; index: number; begin: number; length: number }
  /** `block` is a view into the input bytes: the caller copies it once, into its pool slot. */
  | { type: "piece"; index: number; begin: number; block: Uint8Array }
  | { type: "cancel"; index: number; begin: number; length: number }
  | { type: "port"; port: number }
  /** BEP 6: "this piece would be a good one to ask me for" (advisory). */
  | { type: "suggest"; index: number }
  /** BEP 6: in place of a bitfield, "I have every piece" / "I have none". */
  | { type: "have-all" }
  | { type: "have-none" }
  /** BEP 6: the answer to a request that will not be served (choked, or not served at all). */
  | { type: "reject"; index: number; begin: number; length: number }
  /** BEP 6: a piece the sender serves even while it chokes us. */
  | { type: "allowed-fast"; index: number }
  /** BEP 10: `id` is the extended message id (0: the extension handshake); `payload` is a view into the input. */
  | { type: "extended"; id: number; payload: Uint8Array }
  /** Any other id: kept so a connection can ignore it. */
  | { type: "unknown"; id: number; payload: Uint8Array };

export interface Handshake {
  /** The 8 reserved bytes (extension bits). */
  reserved: Uint8Array;
  infoHash: Uint8Array;
  peerId: Uint8Array;
}
