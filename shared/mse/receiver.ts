// The MSE/PE handshake of the side that accepts (B), as a state machine: bytes in, bytes out, no I/O.
// B answers Ya with Yb and PadB at once, then finds the end of PadA by looking for HASH('req1', S),
// learns the torrent from req2 XOR req3 among the SKEYs it is given, checks VC, picks a method from
// crypto_provide, reads IA, and answers RC4b(VC, crypto_select, len(PadD), PadD).
import { DH_BYTES } from "./dh.ts";
import { MseError } from "./errors.ts";
import { MseHandshake, type HandshakeState } from "./handshake.ts";
import { ciphersFor, req1Hash, req3Hash, xor20, type CipherPair } from "./keys.ts";
import { MSE_IA_MAX, MSE_PAD_MAX, MSE_VC_LENGTH, selectBits, selectMethod, type MseMethod } from "./methods.ts";
import { concat, randomPad, u16, u32, vcBlock, type MseStep, type RandomBytes } from "./step.ts";

/** Finds a torrent by HASH('req2', info hash); SkeyTable is the usual one. */
export interface SkeyLookup {
  find(req2: Uint8Array): Uint8Array | undefined;
}

export interface ReceiverOptions {
  skeys: SkeyLookup;
  /** The methods we accept, best first: the first one the initiator offers is selected. */
  accept: readonly MseMethod[];
  /** Longest IA we take (the spec allows 65535). */
  maxInitialPayload?: number;
  random?: RandomBytes;
}

type Keyed = { secret: Uint8Array; cipher: CipherPair; infoHash: Uint8Array };
type State =
  | { kind: "await-ya" }
  | { kind: "sync-req1"; secret: Uint8Array; req1: Uint8Array }
  | { kind: "read-req2"; secret: Uint8Array }
  | ({ kind: "read-provide" } & Keyed)
  | ({ kind: "read-pad-c"; selected: MseMethod; padLength: number } & Keyed)
  | ({ kind: "read-ia-length"; selected: MseMethod } & Keyed)
  | ({ kind: "read-ia"; selected: MseMethod; iaLength: number } & Keyed);

export class MseReceiver extends MseHandshake<State> {
  protected state: HandshakeState<State> = { kind: "await-ya" };

  constructor(private readonly options: ReceiverOptions) {
    if (options.accept.length === 0) throw new RangeError("accept at least one crypto method");
    super("MseReceiver", options.random);
  }

  protected advance(): MseStep {
    let send: Uint8Array | null = null;
    const wait = () => ({ send, done: null });
    for (;;) {
      const s = this.state;
      switch (s.kind) {
        case "await-ya": {
          if (this.inbox.length < DH_BYTES) return wait();
          const secret = this.dh.sharedSecret(this.inbox.take(DH_BYTES));
          send = concat(this.dh.publicKey, randomPad(this.random));
          this.state = { kind: "sync-req1", secret, req1: req1Hash(secret) };
          break;
        }
        case "sync-req1": {
          if (!this.syncOn(s.req1, "no HASH('req1', S) within 512 bytes after Ya: not an MSE peer, or another key")) return wait();
          this.state = { kind: "read-req2", secret: s.secret };
          break;
        }
        case "read-req2": {
          if (this.inbox.length < 20) return wait();
          const infoHash = this.options.skeys.find(xor20(this.inbox.take(20), req3Hash(s.secret)));
          if (!infoHash) throw new MseError("unknown-info-hash", "the peer asks for a torrent we do not have");
          this.state = { kind: "read-provide", secret: s.secret, infoHash, cipher: ciphersFor("receiver", s.secret, infoHash) };
          break;
        }
        case "read-provide": {
          if (this.inbox.length < 14) return wait();
          const field = this.inbox.take(14);
          s.cipher.decrypt.apply(field);
          for (let i = 0; i < MSE_VC_LENGTH; i++) if (field[i] !== 0) throw new MseError("bad-vc", "VC did not decrypt to zeros");
          const selected = selectMethod(u32(field, 8), this.options.accept);
          const padLength = u16(field, 12);
          if (padLength > MSE_PAD_MAX) throw new MseError("bad-padding", `PadC of ${padLength} bytes (at most 512)`);
          this.state = { ...s, kind: "read-pad-c", selected, padLength };
          break;
        }
        case "read-pad-c": {
          if (this.inbox.length < s.padLength) return wait();
          s.cipher.decrypt.apply(this.inbox.take(s.padLength));
          this.state = { kind: "read-ia-length", secret: s.secret, cipher: s.cipher, infoHash: s.infoHash, selected: s.selected };
          break;
        }
        case "read-ia-length": {
          if (this.inbox.length < 2) return wait();
          const field = this.inbox.take(2);
          s.cipher.decrypt.apply(field);
          const iaLength = u16(field, 0);
          const max = this.options.maxInitialPayload ?? MSE_IA_MAX;
          if (iaLength > max) throw new MseError("handshake-too-large", `IA of ${iaLength} bytes (we take at most ${max})`);
          this.state = { ...s, kind: "read-ia", iaLength };
          break;
        }
        case "read-ia": {
          if (this.inbox.length < s.iaLength) return wait();
          const initialPayload = this.inbox.take(s.iaLength);
          s.cipher.decrypt.apply(initialPayload); // IA is under RC4 whatever is selected
          const padD = randomPad(this.random);
          const reply = concat(vcBlock(selectBits(s.selected), padD.length), padD);
          s.cipher.encrypt.apply(reply);
          send = send ? concat(send, reply) : reply;
          return { send, done: this.finish(s.selected, s.cipher, s.infoHash, initialPayload) };
        }
        default:
          throw new Error(`unreachable state ${s.kind}`);
      }
    }
  }
}
