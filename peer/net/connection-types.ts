// What a peer connection is given: its socket, what it knows from birth, the torrent it serves (from birth,
// or from the peer's handshake; connection-binding.ts), and the handler its events go to.
import type { PeerAddress } from "../../shared/compact.ts";
import type { Handshake, WireMessage } from "../../shared/wire/types.ts";
import type { BlockSink } from "../pieces/piece-assembly.ts";
import type { CloseReason } from "./close-reason.ts";
import type { TorrentBinding } from "./connection-binding.ts";
import type { PeerConnection } from "./peer-connection.ts";
import type { WritableSocket } from "./write-queue.ts";

export type { TorrentBinding } from "./connection-binding.ts";

export interface ConnectionSocket extends WritableSocket {
  end(): void;
  /** The socket's file descriptor, when there is one: what the kernel holds beyond Bun's chunk is read directly. */
  readonly fd?: number;
  /**
   * On a socket that transforms or queues bytes itself (MseSocket), the descriptor bytes may be written to
   * directly while that keeps them in order; piece data is spliced to it (see WriteQueue).
   */
  readonly writeFd?: number;
}

export interface ConnectionHandler {
  /**
   * The peer's handshake arrived. Return why to drop it; null to go on with the torrent the connection
   * was built for; or the torrent it names and the handler that serves it from now on (an incoming
   * connection that did not know its torrent learns it here).
   */
  onHandshake(conn: PeerConnection, handshake: Handshake): CloseReason | null | TorrentAdoption;
  /** Every message after the handshake. Views inside `message` are valid only during the call. */
  onMessage(conn: PeerConnection, message: WireMessage): void;
  /**
   * A `piece` message's 13-byte header is here but its block continues in later chunks: where to copy
   * the block as it comes (straight into its pool slot), or null to buffer the message whole.
   */
  blockSink?(conn: PeerConnection, index: number, begin: number, length: number): BlockSink | null;
  onDrain(conn: PeerConnection): void;
  /** `reason`: describeClose of `conn.closedFor`, for logs and events. */
  onClose(conn: PeerConnection, reason: string): void;
}

/**
 * What a connection's bytes go through: plain BitTorrent, or an MSE/PE handshake (obfuscated) followed by a
 * plaintext or an RC4 payload. Only shown (peer flags, events): the connection reads and writes the same.
 */
export type ConnectionEncryption = "none" | "mse-plaintext" | "mse-rc4";

/** What a connection knows from birth, whatever torrent it turns out to serve. */
export interface ConnectionOptions {
  ourPeerId: Uint8Array;
  /** Our listening port, told to the peer in the extension handshake (0 = not listening). */
  listenPort: number;
  /** True when we dialled: we send our handshake first. */
  outgoing: boolean;
  address: PeerAddress;
  /** Default "none". */
  encryption?: ConnectionEncryption;
  /**
   * The torrent, when known from birth (always for a dial: our handshake names it); the peer's handshake
   * must then name the same one. Without it the peer's handshake decides (see ConnectionHandler).
   */
  torrent?: TorrentBinding;
}

/** A handshake handler's answer for a connection that learns its torrent from the peer: serve `torrent` with `handler`. */
export interface TorrentAdoption {
  torrent: TorrentBinding;
  handler: ConnectionHandler;
}
