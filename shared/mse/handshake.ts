// What the two MSE/PE handshake state machines (initiator A, receiver B) share: the DH key pair drawn at
// construction, the inbox of unread bytes, feed() that marks the machine failed on the first error, the
// search for a sync marker after the peer's padding, and the hand-over of what follows the handshake.
import { DhKeyPair, DH_PRIVATE_BYTES } from "./dh.ts";
import { MseError } from "./errors.ts";
import type { CipherPair } from "./keys.ts";
import { Inbox } from "./inbox.ts";
import { MSE_PAD_MAX, type MseMethod } from "./methods.ts";
import { secureRandom, type MseResult, type MseStep, type RandomBytes } from "./step.ts";

/** The states every handshake ends in; "new" is the initiator's before start(). */
type Idle = { kind: "new" } | { kind: "done" } | { kind: "failed" };
/** A machine's own states of reading, and the idle ones the base knows. */
export type HandshakeState<S> = S | Idle;

export abstract class MseHandshake<S extends { kind: string }> {
  protected abstract state: HandshakeState<S>;
  protected readonly inbox = new Inbox();
  protected readonly dh: DhKeyPair;
  protected readonly random: RandomBytes;

  /** `name` is for the programming errors' messages (class names do not survive minifying). */
  constructor(
    private readonly name: string,
    random: RandomBytes | undefined,
  ) {
    this.random = random ?? secureRandom;
    this.dh = new DhKeyPair(this.random(DH_PRIVATE_BYTES));
  }

  /** Bytes held waiting for more: never more than the largest field the handshake waits for. */
  get buffered(): number {
    return this.inbox.length;
  }

  /** Feeds received bytes; throws MseError when the peer breaks the handshake (then close the connection). */
  feed(chunk: Uint8Array): MseStep {
    const kind = this.state.kind;
    if (kind === "new" || kind === "done" || kind === "failed") throw new Error(`${this.name}.feed in state ${kind}`);
    this.inbox.append(chunk);
    try {
      return this.advance();
    } catch (error) {
      this.state = { kind: "failed" };
      throw error;
    }
  }

  /** Runs the state machine over the inbox as far as it goes. */
  protected abstract advance(): MseStep;

  /**
   * Looks for `marker` within the peer's padding (at most 512 bytes) and drops all up to and including it:
   * true when found, false to wait for more; `missing` names it in the error once it cannot come any more.
   */
  protected syncOn(marker: Uint8Array, missing: string): boolean {
    const at = this.inbox.indexOf(marker, MSE_PAD_MAX);
    if (at >= 0) {
      this.inbox.take(at + marker.length);
      return true;
    }
    if (this.inbox.length >= MSE_PAD_MAX + marker.length) throw new MseError("sync-failed", missing);
    return false;
  }

  /** The end: what came after the handshake is payload, decrypted here when RC4 was selected. */
  protected finish(selected: MseMethod, cipher: CipherPair, infoHash: Uint8Array, initialPayload: Uint8Array): MseResult {
    const rest = this.inbox.takeAll();
    const rc4 = selected === "rc4";
    if (rc4) cipher.decrypt.apply(rest);
    this.state = { kind: "done" };
    return { selected, cipher: rc4 ? cipher : null, infoHash, initialPayload, rest };
  }
}
