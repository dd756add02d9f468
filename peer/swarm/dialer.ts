// Outgoing connections: dials peers the directory says are due, within the torrent's connection room and a
// cap on half-open attempts, and reports dials that fail or time out back to the directory (for back-off).
// With --bind, dials go out from that address, so only peers of its family (IPv4 or IPv6) can be reached.
//
// Encryption (--encryption, shared/mse/policy.ts): under `prefer` a dial opens with MSE/PE, as libtorrent,
// Transmission and aria2 do by default, so a peer that requires encryption takes us at once and one that
// does not speak MSE costs one short extra connection; a failed MSE handshake is retried at once as plain
// BitTorrent (and a plain attempt the peer hangs up on, with MSE). What worked is remembered per peer and
// tried first next time. `require` dials only with MSE, `disable` only plain.
import { isIP } from "node:net";
import type { PeerAddress } from "../../shared/compact.ts";
import { MseInitiator } from "../../shared/mse/initiator.ts";
import { nextAttempt, offeredMethods, type Attempt, type EncryptionPolicy } from "../../shared/mse/policy.ts";
import { describeClose, type CloseReason } from "../net/close-reason.ts";
import type { ConnectionEncryption, ConnectionSocket, PeerConnection } from "../net/peer-connection.ts";
import type { MseLimits } from "../net/mse/limits.ts";
import { encryptionOf, MseLink } from "../net/mse/mse-link.ts";
import { dialPeer } from "../net/sockets.ts";
import type { PeerDirectory } from "./peer-directory.ts";

const DIAL_TIMEOUT_MS = 10_000;
const MAX_HALF_OPEN = 8;

export interface DialerHooks {
  /** Connections the torrent may still open (its limit minus connected peers and our dials still handshaking). */
  room(): number;
  seeding(): boolean;
  /** False while paused or stopped: no retry then. */
  live(): boolean;
  /** Builds the connection once the transport is settled (TCP up, and the MSE handshake done); null refuses it (shutting down). */
  open(socket: ConnectionSocket, address: PeerAddress, encryption: ConnectionEncryption): PeerConnection | null;
}

export interface DialerOptions {
  /** SKEY of our MSE handshakes. */
  infoHash: Uint8Array;
  encryption: EncryptionPolicy;
  bind?: string | null;
  mseLimits?: Partial<MseLimits>;
}

/**
 * BTPEER_DEBUG: a dial that never became a connection (refused, timed out, MSE failed) leaves no other
 * trace, while a connection's close is logged (peer-connection.ts): with this, every dial ends in a line.
 */
function debugDialFailed(address: PeerAddress, attempt: Attempt, why: string): void {
  if (process.env.BTPEER_DEBUG) console.error(`dial ${address.ip}:${address.port} (${attempt}) failed: ${why}`);
}

/** A peer that hangs up before the BitTorrent handshake may be refusing how we opened: worth the other way. */
const REFUSAL_CODES: ReadonlySet<CloseReason["code"]> = new Set(["closed-by-peer", "connection-lost", "socket-error", "timeout", "mse"]);

export class Dialer {
  private halfOpen = 0;
  /** The address dials go out from (null: the system's choice). */
  private readonly localAddress: string | null;
  private readonly reachable: ((address: PeerAddress) => boolean) | undefined;
  /** Our connections that are up, and the ways tried to get each (the last one is how it opened). */
  private readonly attempts = new Map<PeerConnection, Attempt[]>();
  /** Our MSE handshakes in progress. */
  private readonly handshakes = new Set<MseLink>();

  constructor(
    private readonly directory: PeerDirectory,
    private readonly hooks: DialerHooks,
    private readonly options: DialerOptions,
  ) {
    const bind = options.bind ?? null;
    // "0.0.0.0" and "::" only choose where we listen; the system still picks the source of each dial.
    this.localAddress = bind === null || bind === "0.0.0.0" || bind === "::" ? null : bind;
    const family = this.localAddress === null ? 0 : isIP(this.localAddress);
    this.reachable = family === 0 ? undefined : (address) => isIP(address.ip) !== (family === 4 ? 6 : 4);
  }

  connectMore(): void {
    // Nobody to dial is the common case of an idle torrent: decided before room(), which counts the
    // connections of every torrent of the client.
    if (!this.directory.anyDue(Date.now(), this.hooks.seeding(), this.reachable)) return;
    const room = Math.min(MAX_HALF_OPEN - this.halfOpen, this.hooks.room());
    if (room <= 0) return;
    for (const address of this.directory.due(Date.now(), room, this.hooks.seeding(), this.reachable)) this.dial(address, []);
  }

  /** Ends the MSE handshakes in progress (the torrent pauses or stops); dials still connecting are refused when they open. */
  quiet(): void {
    for (const link of this.handshakes) link.abort();
    this.handshakes.clear();
  }

  /**
   * One of our connections closed (the torrent's onClose). Before its BitTorrent handshake, a close that
   * looks like a refusal is retried the other way if the policy allows; otherwise the directory hears of it.
   */
  closed(conn: PeerConnection, outcome: { failed: boolean; seed: boolean }): void {
    const tried = this.attempts.get(conn);
    this.attempts.delete(conn);
    if (tried && conn.remotePeerId !== null) this.directory.worked(conn.address, tried.at(-1)!);
    if (tried && conn.remotePeerId === null && conn.closedFor && this.retry(conn.address, tried, conn.closedFor)) return;
    this.directory.disconnected(conn.address, Date.now(), outcome);
  }

  private retry(address: PeerAddress, tried: Attempt[], reason: CloseReason): boolean {
    if (!this.hooks.live() || !REFUSAL_CODES.has(reason.code) || nextAttempt(this.options.encryption, tried) === null) return false;
    this.dial(address, tried);
    return true;
  }

  private dial(address: PeerAddress, tried: Attempt[]): void {
    const attempt = nextAttempt(this.options.encryption, tried, this.directory.workedWith(address));
    if (attempt === null) return this.directory.disconnected(address, Date.now(), { failed: true });
    const attempts = [...tried, attempt];
    this.halfOpen++;
    let state: "connecting" | "handshaking" | "done" = "connecting";
    /** Leaves the half-open count; false when it already did (timed out, or settled). */
    const settle = () => {
      if (state === "done") return false;
      state = "done";
      this.halfOpen--;
      clearTimeout(timeout);
      return true;
    };
    const timeout = setTimeout(() => {
      if (state !== "connecting" || !settle()) return;
      debugDialFailed(address, attempt, `not connected after ${DIAL_TIMEOUT_MS} ms`);
      this.directory.disconnected(address, Date.now(), { failed: true });
    }, DIAL_TIMEOUT_MS);
    const open = (socket: ConnectionSocket, encryption: ConnectionEncryption) => {
      if (!settle()) return null;
      const conn = this.hooks.open(socket, address, encryption);
      if (conn) this.attempts.set(conn, attempts);
      // Refused (the torrent paused or stopped meanwhile): the address is due again soon, not in 30 s.
      else this.directory.disconnected(address, Date.now(), { failed: false });
      return conn;
    };
    dialPeer(
      address,
      (socket) => {
        if (state !== "connecting") return null;
        this.directory.connected(address);
        if (attempt === "plaintext") return open(socket, "none");
        state = "handshaking";
        clearTimeout(timeout); // the MSE handshake has its own deadline
        const initiator = new MseInitiator({ infoHash: this.options.infoHash, provide: offeredMethods(this.options.encryption) });
        const link = new MseLink(
          socket,
          initiator,
          {
            ready: (mse, result) => {
              this.handshakes.delete(link);
              return open(mse, encryptionOf(result));
            },
            failed: (reason) => {
              this.handshakes.delete(link);
              debugDialFailed(address, attempt, describeClose(reason));
              if (settle() && !this.retry(address, attempts, reason)) this.directory.disconnected(address, Date.now(), { failed: true });
            },
          },
          this.options.mseLimits,
        );
        this.handshakes.add(link);
        link.start();
        return link;
      },
      (reason) => {
        if (!settle()) return;
        debugDialFailed(address, attempt, reason);
        this.directory.disconnected(address, Date.now(), { failed: true });
      },
      this.localAddress,
    );
  }
}
