// Outgoing connections: dials peers the directory says are due, within the torrent's connection room and a
// cap on half-open attempts, and reports dials that fail or time out back to the directory (for back-off).
// With --bind, dials go out from that address, so only peers of its family (IPv4 or IPv6) can be reached.
import { isIP } from "node:net";
import type { PeerAddress } from "../../shared/compact.ts";
import type { PeerConnection } from "../net/peer-connection.ts";
import { dialPeer, type PeerSocket } from "../net/sockets.ts";
import type { PeerDirectory } from "./peer-directory.ts";

const DIAL_TIMEOUT_MS = 10_000;
const MAX_HALF_OPEN = 8;

export interface DialerHooks {
  /** Connections the torrent may still open (its limit minus connected peers and our dials still handshaking). */
  room(): number;
  seeding(): boolean;
  /** Builds the connection for a socket that is up; null refuses it (shutting down). */
  open(socket: PeerSocket, address: PeerAddress): PeerConnection | null;
}

export class Dialer {
  private halfOpen = 0;
  /** The address dials go out from (null: the system's choice). */
  private readonly localAddress: string | null;
  private readonly reachable: ((address: PeerAddress) => boolean) | undefined;

  constructor(
    private readonly directory: PeerDirectory,
    private readonly hooks: DialerHooks,
    bind: string | null = null,
  ) {
    // "0.0.0.0" and "::" only choose where we listen; the system still picks the source of each dial.
    this.localAddress = bind === null || bind === "0.0.0.0" || bind === "::" ? null : bind;
    const family = this.localAddress === null ? 0 : isIP(this.localAddress);
    this.reachable = family === 0 ? undefined : (address) => isIP(address.ip) !== (family === 4 ? 6 : 4);
  }

  connectMore(): void {
    const room = Math.min(MAX_HALF_OPEN - this.halfOpen, this.hooks.room());
    if (room <= 0) return;
    for (const address of this.directory.due(Date.now(), room, this.hooks.seeding(), this.reachable)) this.dial(address);
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
        // Refused (the torrent paused or stopped meanwhile): the address is due again soon, not in 30 s.
        if (conn) this.directory.connected(address);
        else this.directory.disconnected(address, Date.now(), { failed: false });
        return conn;
      },
      () => {
        if (settle()) this.directory.disconnected(address, Date.now(), { failed: true });
      },
      this.localAddress,
    );
  }
}
