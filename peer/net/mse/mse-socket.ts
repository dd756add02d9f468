// A socket with MSE/PE on it: drives a handshake state machine (initiator or receiver) over a raw Bun
// socket, then encrypts what is written and decrypts what arrives. It looks like the socket a
// PeerConnection writes to (write may take only part of a buffer, as Bun's does), and hands decrypted
// chunks on, so the connection above it does not know encryption exists.
import type { MseInitiator } from "../../../shared/mse/initiator.ts";
import type { MseReceiver } from "../../../shared/mse/receiver.ts";
import type { CipherPair } from "../../../shared/mse/keys.ts";
import type { MseResult } from "../../../shared/mse/step.ts";
import { MseError } from "../../../shared/mse/errors.ts";
import { RC4_STATE_BYTES } from "../../../shared/mse/rc4.ts";
import { readAvailable } from "../direct-read.ts";
import type { WritableSocket } from "../write-queue.ts";
import { MSE_LIMITS, type MseLimits } from "./limits.ts";

export interface RawSocket extends WritableSocket {
  end(): void;
  readonly fd?: number;
}

export interface MseSocketEvents {
  /** The handshake is done: `result.rest` (and, incoming, `result.initialPayload`) are payload already received. */
  ready(socket: MseSocket, result: MseResult): void;
  /** Payload, decrypted in place (the chunk is the caller's to keep or drop). */
  data(chunk: Uint8Array): void;
  /** The handshake failed: the raw socket is already ended; `error.code` says why. */
  failed(error: MseError): void;
  /** Everything queued went out (forward to the connection's `drained`). */
  drain?(): void;
}

type State = { kind: "handshake"; machine: MseInitiator | MseReceiver } | { kind: "open"; cipher: CipherPair | null } | { kind: "closed" };

export class MseSocket implements RawSocket {
  private state: State;
  private readonly pending: Uint8Array[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private scratch = new Uint8Array(0);
  private readonly saved = new Uint8Array(RC4_STATE_BYTES);
  private readonly limits: MseLimits;
  /** True while `ready` runs with handshake-chunk payload still to hand on after it (see receive). */
  private handingOverRest = false;

  constructor(
    private readonly raw: RawSocket,
    machine: MseInitiator | MseReceiver,
    private readonly events: MseSocketEvents,
    limits: Partial<MseLimits> = {},
  ) {
    this.state = { kind: "handshake", machine };
    this.limits = { ...MSE_LIMITS, ...limits };
  }

  /** Starts the deadline and, for an initiator, sends Ya and PadA. Call when TCP is up. */
  start(): void {
    if (this.state.kind !== "handshake") return;
    this.timer = setTimeout(
      () => this.fail(new MseError("timeout", `MSE handshake not done after ${this.limits.handshakeDeadlineMs} ms`)),
      this.limits.handshakeDeadlineMs,
    );
    const machine = this.state.machine;
    if ("start" in machine) this.sendRaw(machine.start());
  }

  /**
   * The raw socket's descriptor, only once open with a plaintext payload: a PeerConnection then reads what
   * the kernel holds straight from it (direct-read.ts), as on a plain connection. Under RC4 there is none,
   * or it would read past the decryption.
   */
  get fd(): number | undefined {
    const s = this.state;
    return s.kind === "open" && s.cipher === null && !this.handingOverRest ? this.raw.fd : undefined;
  }

  /**
   * The raw socket's descriptor when bytes written straight to it keep their place in the stream: open, a
   * plaintext payload, and no handshake bytes still queued here. A PeerConnection splices file data to it.
   */
  get writeFd(): number | undefined {
    return this.pending.length === 0 ? this.fd : undefined;
  }

  get isOpen(): boolean {
    return this.state.kind === "open";
  }

  /** From the raw socket's `data`: handshake bytes, or payload to decrypt and pass on. */
  receive(chunk: Uint8Array): void {
    const s = this.state;
    if (s.kind === "closed") return;
    if (s.kind === "open") {
      s.cipher?.decrypt.apply(chunk); // Bun hands each data event a fresh buffer: decrypt it where it lies
      this.events.data(chunk);
      // Under RC4 the connection above cannot read the descriptor itself (`fd` is hidden from it): what
      // else the kernel holds is read here, into the shared staging buffer, and decrypted there.
      if (s.cipher && this.state.kind === "open" && this.raw.fd !== undefined) readAvailable(this.raw.fd, this.readDirect);
      return;
    }
    let step;
    try {
      step = s.machine.feed(chunk);
    } catch (error) {
      if (error instanceof MseError) return this.fail(error);
      throw error; // a bug, not the peer's doing
    }
    if (step.send) this.sendRaw(step.send);
    if (!step.done) return;
    this.clearTimer();
    this.state = { kind: "open", cipher: step.done.cipher };
    const rest = step.done.rest;
    // Until `rest` (payload that came in the handshake's last chunk) is handed on, the descriptor stays
    // hidden: a reader given the IA in `ready` would otherwise read the kernel's later bytes before it.
    this.handingOverRest = rest.length > 0;
    try {
      this.events.ready(this, step.done);
    } finally {
      this.handingOverRest = false;
    }
    if (rest.length > 0 && this.state.kind === "open") this.events.data(rest);
  }

  private readonly readDirect = (bytes: Uint8Array): boolean => {
    const s = this.state;
    if (s.kind !== "open" || !s.cipher) return false;
    s.cipher.decrypt.apply(bytes);
    this.events.data(bytes); // a view of the staging buffer: read during the call only, as the connection does
    return this.state.kind === "open";
  };

  /**
   * Writes payload, encrypted, with a plain socket's contract: returns how many bytes went out (the caller
   * keeps the rest and writes it again on drain), or -1 once closed. RC4 is a stream, so on a partial
   * write the keystream is rewound to just past what went out.
   */
  write(data: Uint8Array, byteOffset = 0, byteLength = data.length - byteOffset): number {
    const s = this.state;
    if (s.kind === "closed") return -1;
    if (s.kind === "handshake") throw new Error("MseSocket.write before the handshake is done");
    if (this.pending.length > 0) return 0; // handshake bytes first
    if (!s.cipher) return this.raw.write(data, byteOffset, byteLength);
    // Encrypted through one scratch buffer of bounded size, a slice at a time, so a large write
    // (a whole framed piece) allocates nothing.
    const cipher = s.cipher.encrypt;
    let done = 0;
    while (done < byteLength) {
      const n = Math.min(byteLength - done, this.limits.scratchBytes);
      if (this.scratch.length < n) this.scratch = new Uint8Array(Math.min(this.limits.scratchBytes, Math.max(n, 2 * this.scratch.length, 16 * 1024)));
      cipher.saveState(this.saved);
      cipher.applyTo(data, byteOffset + done, this.scratch, 0, n);
      const written = this.raw.write(this.scratch, 0, n);
      if (written < n) {
        cipher.restoreState(this.saved);
        if (written > 0) cipher.skip(written);
        if (written < 0 && done === 0) return -1;
        return done + Math.max(0, written);
      }
      done += n;
    }
    return done;
  }

  /** From the raw socket's `drain`. */
  drained(): void {
    if (this.state.kind === "closed") return;
    this.flushPending();
    if (this.pending.length === 0 && this.state.kind === "open") this.events.drain?.();
  }

  /** From the raw socket's `close`/`error`: during the handshake this is a failure ("closed"). */
  closed(reason: string): void {
    if (this.state.kind === "handshake") this.fail(new MseError("closed", `connection closed during the MSE handshake: ${reason}`));
    else this.shut();
  }

  end(): void {
    this.shut();
  }

  private fail(error: MseError): void {
    if (this.state.kind !== "handshake") return;
    this.shut();
    this.events.failed(error);
  }

  private shut(): void {
    if (this.state.kind === "closed") return;
    this.state = { kind: "closed" };
    this.clearTimer();
    this.pending.length = 0;
    this.raw.end();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Handshake bytes: tiny, but Bun may still take part of them; the rest waits for drain. */
  private sendRaw(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.flushPending();
  }

  private flushPending(): void {
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const written = this.raw.write(head, 0, head.length);
      if (written < 0) return this.fail(new MseError("closed", "the socket refused a write during the MSE handshake"));
      if (written < head.length) {
        this.pending[0] = head.subarray(written);
        return;
      }
      this.pending.shift();
    }
  }
}
