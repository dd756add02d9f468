// The MSE/PE handshake of the side that dials (A), as a state machine: bytes in, bytes out, no I/O.
//   A→B  Ya, PadA
//   B→A  Yb, PadB
//   A→B  HASH('req1',S), HASH('req2',SKEY)^HASH('req3',S), RC4a(VC, crypto_provide, len(PadC), PadC, len(IA), IA)
//   B→A  RC4b(VC, crypto_select, len(PadD), PadD), then the payload in the selected method
// A finds the end of PadB by looking for VC encrypted under keyB, which it can compute once it has S.
import { DH_BYTES } from "./dh.ts";
import { MseError } from "./errors.ts";
import { MseHandshake, type HandshakeState } from "./handshake.ts";
import { ciphersFor, req1Hash, req2Hash, req3Hash, xor20, type CipherPair } from "./keys.ts";
import { MSE_IA_MAX, MSE_PAD_MAX, MSE_VC_LENGTH, provideBits, readSelect, type MseMethod } from "./methods.ts";
import { concat, randomPad, u16, u32, vcBlock, type MseStep, type RandomBytes } from "./step.ts";

export interface InitiatorOptions {
  /** SKEY: the info hash of the torrent we dial for. */
  infoHash: Uint8Array;
  /** crypto_provide: the methods we accept; the receiver picks one. */
  provide: readonly MseMethod[];
  /** IA: sent encrypted with step 3, normally our BitTorrent handshake (saves a round trip). */
  initialPayload?: Uint8Array;
  random?: RandomBytes;
}

type State =
  | { kind: "await-yb" }
  | { kind: "sync-vc"; cipher: CipherPair; encryptedVc: Uint8Array }
  | { kind: "read-select"; cipher: CipherPair }
  | { kind: "read-pad-d"; cipher: CipherPair; selected: MseMethod; padLength: number };

export class MseInitiator extends MseHandshake<State> {
  protected state: HandshakeState<State> = { kind: "new" };

  constructor(private readonly options: InitiatorOptions) {
    if (options.infoHash.length !== 20) throw new RangeError("SKEY is a 20-byte info hash");
    if (options.provide.length === 0) throw new RangeError("provide at least one crypto method");
    if ((options.initialPayload?.length ?? 0) > MSE_IA_MAX) throw new RangeError("IA is at most 65535 bytes");
    super("MseInitiator", options.random);
  }

  /** Step 1: Ya and PadA, to send as soon as TCP is up. */
  start(): Uint8Array {
    if (this.state.kind !== "new") throw new Error("MseInitiator.start called twice");
    this.state = { kind: "await-yb" };
    return concat(this.dh.publicKey, randomPad(this.random));
  }

  protected advance(): MseStep {
    let send: Uint8Array | null = null;
    for (;;) {
      const s = this.state;
      switch (s.kind) {
        case "await-yb": {
          if (this.inbox.length < DH_BYTES) return { send, done: null };
          const secret = this.dh.sharedSecret(this.inbox.take(DH_BYTES));
          const cipher = ciphersFor("initiator", secret, this.options.infoHash);
          send = this.step3(secret, cipher);
          // A keyB-encrypted VC marks the end of PadB; computing it moves keyB past VC, as reading it would.
          const encryptedVc = new Uint8Array(MSE_VC_LENGTH);
          cipher.decrypt.apply(encryptedVc);
          this.state = { kind: "sync-vc", cipher, encryptedVc };
          break;
        }
        case "sync-vc": {
          if (!this.syncOn(s.encryptedVc, "no encrypted VC within 512 bytes after Yb: not an MSE peer, or another key")) return { send, done: null };
          this.state = { kind: "read-select", cipher: s.cipher };
          break;
        }
        case "read-select": {
          if (this.inbox.length < 6) return { send, done: null };
          const field = this.inbox.take(6);
          s.cipher.decrypt.apply(field);
          const selected = readSelect(u32(field, 0), this.options.provide);
          const padLength = u16(field, 4);
          if (padLength > MSE_PAD_MAX) throw new MseError("bad-padding", `PadD of ${padLength} bytes (at most 512)`);
          this.state = { kind: "read-pad-d", cipher: s.cipher, selected, padLength };
          break;
        }
        case "read-pad-d": {
          if (this.inbox.length < s.padLength) return { send, done: null };
          s.cipher.decrypt.apply(this.inbox.take(s.padLength)); // keeps keyB in step
          return { send, done: this.finish(s.selected, s.cipher, this.options.infoHash, new Uint8Array(0)) };
        }
        default:
          throw new Error(`unreachable state ${s.kind}`);
      }
    }
  }

  private step3(secret: Uint8Array, cipher: CipherPair): Uint8Array {
    const padC = randomPad(this.random);
    const ia = this.options.initialPayload ?? new Uint8Array(0);
    const head = vcBlock(provideBits(this.options.provide), padC.length);
    const iaLength = new Uint8Array([ia.length >> 8, ia.length & 0xff]);
    const encrypted = concat(head, padC, iaLength, ia);
    cipher.encrypt.apply(encrypted); // IA goes under RC4 whatever is selected: A does not know yet
    return concat(req1Hash(secret), xor20(req2Hash(this.options.infoHash), req3Hash(secret)), encrypted);
  }
}
