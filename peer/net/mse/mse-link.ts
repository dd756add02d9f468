// An MSE/PE handshake on a socket, then the connection it carries: a SocketSink that feeds the socket's
// bytes to an MseSocket until the handshake is done, then has `ready` build the connection over the
// MseSocket and forwards the decrypted stream (and drains, and the close) to it. The connection above
// does not know encryption exists. Used for our dials and, once the first bytes said MSE, for incoming ones.
import type { MseInitiator } from "../../../shared/mse/initiator.ts";
import type { MseReceiver } from "../../../shared/mse/receiver.ts";
import type { MseResult } from "../../../shared/mse/step.ts";
import { describeClose, type CloseReason } from "../close-reason.ts";
import type { ConnectionEncryption } from "../connection-types.ts";
import type { SocketSink } from "../sockets.ts";
import type { MseLimits } from "./limits.ts";
import { MseSocket, type RawSocket } from "./mse-socket.ts";

export const encryptionOf = (result: MseResult): ConnectionEncryption => (result.selected === "rc4" ? "mse-rc4" : "mse-plaintext");

export interface MseLinkEvents {
  /**
   * The handshake is done: build the connection over `socket` and feed it `result.initialPayload` if any
   * (the payload that came with the handshake's end follows by itself). Null refuses: the socket is closed.
   */
  ready(socket: MseSocket, result: MseResult): SocketSink | null;
  /** The handshake failed, or the socket closed during it; the socket is already closed. */
  failed(reason: CloseReason): void;
}

type State = { kind: "handshake" } | { kind: "open"; conn: SocketSink } | { kind: "closed" };

export class MseLink implements SocketSink {
  private state: State = { kind: "handshake" };
  private readonly mse: MseSocket;

  constructor(raw: RawSocket, machine: MseInitiator | MseReceiver, events: MseLinkEvents, limits: Partial<MseLimits> = {}) {
    this.mse = new MseSocket(
      raw,
      machine,
      {
        ready: (socket, result) => {
          const conn = events.ready(socket, result);
          if (this.state.kind !== "handshake") return; // closed while building it
          if (!conn) {
            this.state = { kind: "closed" };
            socket.end();
            return;
          }
          this.state = { kind: "open", conn };
        },
        data: (chunk) => {
          if (this.state.kind === "open") this.state.conn.receive(chunk);
        },
        failed: (error) => {
          if (this.state.kind !== "handshake") return;
          this.state = { kind: "closed" };
          events.failed({ code: "mse", mse: error.code, detail: error.message });
        },
        drain: () => {
          if (this.state.kind === "open") this.state.conn.drained();
        },
      },
      limits,
    );
  }

  /** Starts the handshake's deadline and, as the initiator, sends our DH value. Call once TCP is up. */
  start(): void {
    this.mse.start();
  }

  receive(chunk: Uint8Array): void {
    this.mse.receive(chunk);
  }

  /** Once open, chunks pass (decrypted in place) straight to the connection: it says whether it keeps them. */
  get chunksLetGo(): boolean {
    return this.state.kind === "open" && this.state.conn.chunksLetGo === true;
  }

  drained(): void {
    this.mse.drained();
  }

  /** The socket closed: during the handshake that fails it ("closed"); afterwards the connection hears of it. */
  closed(reason: CloseReason): void {
    const s = this.state;
    if (s.kind === "handshake") return this.mse.closed(describeClose(reason));
    if (s.kind === "open") {
      this.state = { kind: "closed" };
      this.mse.end();
      s.conn.closed(reason);
    }
  }

  /** Ends the handshake from our side (deadline, handshake cap, shutdown): the socket closes, no event. */
  abort(): void {
    if (this.state.kind !== "handshake") return;
    this.state = { kind: "closed" };
    this.mse.end();
  }
}
