// An incoming connection until a PeerConnection takes it. Its first bytes tell what it speaks on our one
// port: plain BitTorrent starts with 19 and "BitTorrent protocol", MSE/PE with a random-looking DH value
// (shared/mse/classify.ts). A plain one becomes a PeerConnection on the raw socket; an MSE one is answered
// as the receiver (the torrent found by its SKEY among the client's) and the PeerConnection runs over the
// MseSocket, plaintext or RC4 as the handshake selected. --encryption refuses the kind it does not allow.
import type { PeerAddress } from "../../shared/compact.ts";
import { FirstBytes } from "../../shared/mse/classify.ts";
import { acceptedMethods, acceptsIncoming, type EncryptionPolicy } from "../../shared/mse/policy.ts";
import { MseReceiver, type SkeyLookup } from "../../shared/mse/receiver.ts";
import type { CloseReason } from "../net/close-reason.ts";
import type { ConnectionEncryption, ConnectionSocket } from "../net/connection-types.ts";
import { MSE_LIMITS, type MseLimits } from "../net/mse/limits.ts";
import { encryptionOf, MseLink } from "../net/mse/mse-link.ts";
import type { PeerConnection } from "../net/peer-connection.ts";
import type { PeerSocket, SocketSink } from "../net/sockets.ts";

/** Longest an incoming connection may take to send enough bytes to be told apart (the MSE handshake then has its own deadline). */
export const SNIFF_TIMEOUT_MS = 5_000;

export interface IncomingHooks {
  readonly policy: EncryptionPolicy;
  readonly skeys: SkeyLookup;
  /** Builds the connection over `socket` (the raw one, or the MseSocket); null refuses it. */
  connection(incoming: Incoming, socket: ConnectionSocket, encryption: ConnectionEncryption): PeerConnection | null;
  /** It was dropped before a connection took it (the socket is closed already). */
  dropped(incoming: Incoming, reason: CloseReason): void;
  mseLimits?: Partial<MseLimits>;
}

type State = { kind: "sniffing"; first: FirstBytes } | { kind: "mse"; link: MseLink } | { kind: "handed-over" } | { kind: "closed" };

export class Incoming implements SocketSink {
  readonly outgoing = false;
  readonly connectedAt = Date.now();
  private state: State = { kind: "sniffing", first: new FirstBytes() };

  constructor(
    private readonly socket: PeerSocket,
    readonly address: PeerAddress,
    private readonly hooks: IncomingHooks,
  ) {}

  /** What it is doing now: telling the protocol apart, or in the MSE handshake. */
  get stage(): "sniffing" | "mse" | "done" {
    const k = this.state.kind;
    return k === "sniffing" || k === "mse" ? k : "done";
  }

  receive(chunk: Uint8Array): void {
    const s = this.state;
    if (s.kind === "mse") return s.link.receive(chunk);
    if (s.kind !== "sniffing") return;
    const decided = s.first.push(chunk);
    if (!decided) return;
    if (!acceptsIncoming(this.hooks.policy, decided.kind)) {
      const detail = decided.kind === "mse" ? "an MSE handshake under --encryption disable" : "a plain BitTorrent handshake under --encryption require";
      return this.close({ code: "encryption-policy", detail });
    }
    if (decided.kind === "plaintext") {
      this.state = { kind: "handed-over" };
      const conn = this.hooks.connection(this, this.socket, "none");
      this.socket.data.sink = conn;
      if (!conn) return void this.socket.end();
      conn.receive(decided.bytes);
      return;
    }
    const receiver = new MseReceiver({
      skeys: this.hooks.skeys,
      accept: acceptedMethods(this.hooks.policy),
      maxInitialPayload: this.hooks.mseLimits?.maxInitialPayload ?? MSE_LIMITS.maxInitialPayload,
    });
    const link = new MseLink(
      this.socket,
      receiver,
      {
        ready: (mse, result) => {
          this.state = { kind: "handed-over" };
          const conn = this.hooks.connection(this, mse, encryptionOf(result));
          // The initiator's IA is normally its BitTorrent handshake: the connection reads it first.
          if (conn && result.initialPayload.length > 0) conn.receive(result.initialPayload);
          return conn;
        },
        failed: (reason) => this.dropped(reason),
      },
      this.hooks.mseLimits,
    );
    this.state = { kind: "mse", link };
    this.socket.data.sink = link; // from now on the socket's events go straight to the handshake
    link.start();
    link.receive(decided.bytes);
  }

  drained(): void {
    if (this.state.kind === "mse") this.state.link.drained();
  }

  closed(reason: CloseReason): void {
    const s = this.state;
    if (s.kind === "mse") return s.link.closed(reason);
    if (s.kind === "sniffing") this.dropped(reason);
  }

  /** Drops it from our side (deadline, handshake cap, policy, shutdown). */
  close(reason: CloseReason): void {
    const s = this.state;
    if (s.kind === "handed-over" || s.kind === "closed") return;
    this.dropped(reason); // first: ending the socket may report its close at once, and that is not why
    if (s.kind === "mse") s.link.abort();
    else this.socket.end();
  }

  private dropped(reason: CloseReason): void {
    if (this.state.kind === "closed" || this.state.kind === "handed-over") return;
    this.state = { kind: "closed" };
    this.hooks.dropped(this, reason);
  }
}
