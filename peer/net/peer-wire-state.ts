// The wire-level state of one peer connection (BEP 3, with BEP 6 and 10): who chokes whom, who is
// interested, the peer's pieces and extension handshake, and what each message received or sent changes
// of it. No socket here: PeerConnection is this state with the socket, the codec and the writes.
import { Bitfield } from "../../shared/bitfield.ts";
import { decodeExtensionHandshake, EXTENSION_HANDSHAKE_ID, type ExtensionHandshake } from "../../shared/wire/extension.ts";
import { isFastMessage } from "../../shared/wire/fast.ts";
import type { WireMessage } from "../../shared/wire/types.ts";
import type { CloseReason } from "./close-reason.ts";
import type { EarlyPieces } from "./early-pieces.ts";
import { announcedPieces } from "./piece-announcement.ts";

export class PeerWireState {
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  peerPieces: Bitfield;
  /** While a `bitfield` message is handled: the pieces it replaces (for availability counts). */
  replacedPieces: Bitfield | null = null;
  /** The peer's extension handshake (BEP 10), once it sent one; a later one replaces it. */
  peerExtensions: ExtensionHandshake | null = null;
  /** Both sides set the fast extension's bit (BEP 6): its messages may flow, and only then. */
  fast = false;
  /** Its handshake's reserved bits said it speaks BEP 10. */
  peerSpeaksExtensions = false;

  constructor(pieceCount: number) {
    this.peerPieces = new Bitfield(pieceCount);
  }

  /**
   * A message from the peer: what it changes here, or why it breaks the protocol. `early` holds the
   * peer's pieces while the torrent's piece count is unknown (peerPieces is empty meanwhile).
   */
  protected received(message: WireMessage, early: EarlyPieces | null): CloseReason | null {
    // BEP 6: its messages from a peer that did not set the bit are a protocol error.
    if (isFastMessage(message) && !this.fast) return { code: "protocol", detail: `${message.type} from a peer without the fast extension` };
    switch (message.type) {
      case "choke":
        this.peerChoking = true;
        break;
      case "unchoke":
        this.peerChoking = false;
        break;
      case "interested":
        this.peerInterested = true;
        break;
      case "not-interested":
        this.peerInterested = false;
        break;
      case "have":
        if (early) {
          early.have(message.index);
          break;
        }
        if (message.index >= this.peerPieces.pieceCount) return { code: "out-of-range", detail: `have for piece ${message.index} past the end` };
        this.peerPieces.set(message.index);
        break;
      case "bitfield":
      case "have-all":
      case "have-none":
        // Before the piece count is known (a magnet's metadata phase) it waits aside, checked once it is.
        if (early) {
          early.announced(message);
          break;
        }
        // BEP 3 wants it first, but aria2 sends a bitfield late instead of `have`s: a full replacement.
        this.replacedPieces = this.peerPieces;
        this.peerPieces = announcedPieces(message, this.peerPieces.pieceCount);
        break;
      case "extended":
        // A malformed handshake throws WireError: the connection closes as for any protocol violation.
        if (message.id === EXTENSION_HANDSHAKE_ID) this.peerExtensions = decodeExtensionHandshake(message.payload);
        break;
    }
    return null;
  }

  /** A message of ours about to go out: what it changes here. */
  protected sending(message: WireMessage): void {
    switch (message.type) {
      case "choke":
        this.amChoking = true;
        break;
      case "unchoke":
        this.amChoking = false;
        break;
      case "interested":
        this.amInterested = true;
        break;
      case "not-interested":
        this.amInterested = false;
        break;
    }
  }
}
