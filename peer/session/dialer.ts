// Outgoing connections: dials peers the directory says are due, within the torrent's connection room and a
// cap on half-open attempts, and reports dials that fail or time out back to the directory (for back-off).
import type { PeerAddress } from "../../shared/compact.ts";
import type { PeerConnection } from "../net/peer-connection.ts";
import { dialPeer, type PeerSocket } from "../net/sockets.ts";
import type { PeerDirectory } from "./peer-directory.ts";

const DIAL_TIMEOUT_MS = 10_000;
const MAX_HALF_OPEN = 8;

export interface DialerHooks {
  /** Connections the torrent may still open (its limit minus connected and handshaking peers). */
  room(): number;
  seeding(): boolean;
  /** Builds the connection for a socket that is up; null refuses it (shutting down). */
  open(socket: PeerSocket, address: PeerAddress): PeerConnection | null;
}

export class Dialer {
  private halfOpen = 0;

  constructor(
    private readonly directory: PeerDirectory,
    private readonly hooks: DialerHooks,
  ) {}

  connectMore(): void {
    const room = Math.min(MAX_HALF_OPEN - this.halfOpen, this.hooks.room());
    if (room <= 0) return;
    for (const address of this.directory.due(Date.now(), room, this.hooks.seeding())) this.dial(address);
  }

  private dial(address: PeerAddress): void {
    this.halfOpen++;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.halfOpen--;
      clearTimeout(timeout);
      return true;
    };
    const timeout = setTimeout(() => {
      if (settle()) this.directory.disconnected(address, Date.now(), { failed: true });
    }, DIAL_TIMEOUT_MS);
    dialPeer(
      address,
      (socket) => {
        if (!settle()) return null;
        const conn = this.hooks.open(socket, address);
        if (conn) this.directory.connected(address);
        return conn;
      },
      () => {
        if (settle()) this.directory.disconnected(address, Date.now(), { failed: true });
      },
    );
  }
}
