// The 768-bit Diffie–Hellman exchange of MSE/PE: the spec's fixed prime P (a safe prime from the
// Oakley groups), generator 2, 160-bit private keys, public values and the secret sent as 96 big-endian
// bytes padded with leading zeros. BigInt does the arithmetic: one exchange is two exponentiations.
import { MseError } from "./errors.ts";

export const DH_PRIME =
  0xffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563n;
export const DH_GENERATOR = 2n;
/** Bytes of a public value or of the shared secret on the wire. */
export const DH_BYTES = 96;
/** The spec recommends 160-bit private keys (at least 128). */
export const DH_PRIVATE_BYTES = 20;

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

export function bigIntFromBytes(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** `n` as exactly `length` big-endian bytes (leading zeros kept: the spec pads to 96). */
export function bigIntToBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = n;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError(`value does not fit in ${length} bytes`);
  return out;
}

export class DhKeyPair {
  private readonly privateKey: bigint;
  /** Our public value, 96 bytes. */
  readonly publicKey: Uint8Array;

  constructor(privateBytes: Uint8Array) {
    if (privateBytes.length < 16) throw new RangeError("an MSE private key has at least 128 bits");
    this.privateKey = bigIntFromBytes(privateBytes);
    this.publicKey = bigIntToBytes(modPow(DH_GENERATOR, this.privateKey, DH_PRIME), DH_BYTES);
  }

  /** The shared secret S from the peer's 96-byte public value; refuses values that would make S guessable. */
  sharedSecret(peerPublic: Uint8Array): Uint8Array {
    const y = bigIntFromBytes(peerPublic);
    if (y < 2n || y > DH_PRIME - 2n) throw new MseError("bad-public-key", "the peer's Diffie-Hellman value is out of range");
    return bigIntToBytes(modPow(y, this.privateKey, DH_PRIME), DH_BYTES);
  }
}
