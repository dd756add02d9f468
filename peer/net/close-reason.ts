// Why a peer connection closed, as a value the code can branch on; `describeClose` gives the text events,
// logs and handlers show (the same words as before reasons were typed).
import type { MseErrorCode } from "../../shared/mse/errors.ts";

export type TimeoutKind = "handshake" | "silent" | "stalled";

export type CloseReason =
  /** The peer broke the protocol: a malformed message, a wrong block, too many chokes or unasked blocks. */
  | { code: "protocol"; detail: string }
  /** A message that decodes but names a piece or range the torrent does not have. */
  | { code: "out-of-range"; detail: string }
  | { code: "timeout"; which: TimeoutKind }
  /** The peer's address is banned; `detail`: why, when it is being banned now. */
  | { code: "banned"; detail?: string }
  | { code: "wrong-info-hash" }
  /** An incoming handshake named a torrent this client does not serve. */
  | { code: "unknown-torrent" }
  | { code: "self" }
  | { code: "duplicate" }
  | { code: "too-many-peers" }
  | { code: "too-many-handshakes" }
  /** A peer with something to trade took this one's slot. */
  | { code: "replaced" }
  /** We and the peer both have every piece. */
  | { code: "both-complete" }
  | { code: "shutting-down" }
  | { code: "closed-by-peer" }
  | { code: "connection-lost"; detail: string }
  | { code: "socket-error"; detail: string }
  /** The MSE/PE handshake failed (before any BitTorrent handshake); `mse` says how. */
  | { code: "mse"; mse: MseErrorCode; detail: string }
  /** --encryption refuses this kind of connection: plain BitTorrent under `require`, MSE under `disable`. */
  | { code: "encryption-policy"; detail: string }
  /** Closed by the program for a reason of its own (tests, tools). */
  | { code: "local"; detail: string };

export type CloseCode = CloseReason["code"];

export function describeClose(reason: CloseReason): string {
  switch (reason.code) {
    case "protocol":
      return `protocol error: ${reason.detail}`;
    case "out-of-range":
    case "local":
      return reason.detail;
    case "timeout":
      return reason.which === "handshake" ? "handshake timeout" : `${reason.which} peer timeout`;
    case "banned":
      return reason.detail === undefined ? "banned" : `banned: ${reason.detail}`;
    case "wrong-info-hash":
      return "wrong info hash";
    case "unknown-torrent":
      return "unknown torrent";
    case "self":
      return "connected to ourselves";
    case "duplicate":
      return "already connected to this peer";
    case "too-many-peers":
      return "too many peers";
    case "too-many-handshakes":
      return "too many handshakes";
    case "replaced":
      return "replaced by a peer with something to trade";
    case "both-complete":
      return "both complete";
    case "shutting-down":
      return "shutting down";
    case "closed-by-peer":
      return "closed by peer";
    case "connection-lost":
      return `connection lost: ${reason.detail}`;
    case "socket-error":
      return `socket error: ${reason.detail}`;
    case "mse":
      return `MSE handshake failed (${reason.mse}): ${reason.detail}`;
    case "encryption-policy":
      return `refused by the encryption policy: ${reason.detail}`;
  }
}

/** The peer, not us or the network's ordinary churn, ended it: its address is tried again only after a back-off. */
export function peerFailed(reason: CloseReason): boolean {
  return reason.code === "protocol" || reason.code === "timeout";
}
