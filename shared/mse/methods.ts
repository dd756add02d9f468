// MSE's crypto methods and the fixed sizes of its handshake.
import { MseError } from "./errors.ts";

/** What carries the payload after the handshake: RC4 both ways, or plaintext (only the handshake hidden). */
export type MseMethod = "plaintext" | "rc4";

const BITS: Record<MseMethod, number> = { plaintext: 0x01, rc4: 0x02 };

/** Padding (PadA..PadD) is at most this long. */
export const MSE_PAD_MAX = 512;
/** The verification constant: 8 zero bytes, sent encrypted so each side can check the other's key. */
export const MSE_VC_LENGTH = 8;
/** len(IA) is a 16-bit field. */
export const MSE_IA_MAX = 0xffff;

/** The crypto_provide bit field for `methods`. */
export function provideBits(methods: readonly MseMethod[]): number {
  let bits = 0;
  for (const m of methods) bits |= BITS[m];
  return bits;
}

/** The first of `preferred` (our order) that the peer's crypto_provide offers, or a no-common-method error. */
export function selectMethod(provided: number, preferred: readonly MseMethod[]): MseMethod {
  for (const m of preferred) if (provided & BITS[m]) return m;
  throw new MseError("no-common-method", `the peer offers crypto methods 0x${provided.toString(16)}, we accept ${preferred.join(", ") || "none"}`);
}

/** Reads crypto_select: exactly one method, and one we offered. */
export function readSelect(selected: number, offered: readonly MseMethod[]): MseMethod {
  for (const m of offered) if (selected === BITS[m]) return m;
  throw new MseError("bad-select", `the peer selected crypto method 0x${selected.toString(16)}, we offered ${offered.join(", ")}`);
}

export function selectBits(method: MseMethod): number {
  return BITS[method];
}
