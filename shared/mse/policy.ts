// The `--encryption` policy and what it means for each connection, as pure decisions.
//   prefer   accept both kinds incoming; dial with MSE (offering RC4 and plaintext, the peer picks)
//            and fall back to plain BitTorrent when the peer does not speak MSE; as the receiver of an
//            MSE handshake offering both, select plaintext (acceptedMethods)
//   require  MSE with RC4 only, both ways
//   disable  plain BitTorrent only: MSE peers are refused
import type { MseMethod } from "./methods.ts";
import type { IncomingKind } from "./classify.ts";

export type EncryptionPolicy = "prefer" | "require" | "disable";
export const ENCRYPTION_POLICIES: readonly EncryptionPolicy[] = ["prefer", "require", "disable"];

/** How one outgoing connection attempt opens. */
export type Attempt = "mse" | "plaintext";

export function parseEncryptionPolicy(text: string): EncryptionPolicy | null {
  return (ENCRYPTION_POLICIES as readonly string[]).includes(text) ? (text as EncryptionPolicy) : null;
}

/**
 * The next way to dial a peer after `tried` failed (each attempt is a new TCP connection), or null when
 * the policy allows nothing else. `known` is what last worked with this peer, tried first.
 */
export function nextAttempt(policy: EncryptionPolicy, tried: readonly Attempt[], known?: Attempt): Attempt | null {
  const order: Attempt[] = policy === "require" ? ["mse"] : policy === "disable" ? ["plaintext"] : ["mse", "plaintext"];
  if (known && order.includes(known)) order.sort((a, b) => (a === known ? -1 : b === known ? 1 : 0));
  return order.find((a) => !tried.includes(a)) ?? null;
}

/** crypto_provide when we dial with MSE. */
export function offeredMethods(policy: EncryptionPolicy): MseMethod[] {
  return policy === "require" ? ["rc4"] : ["rc4", "plaintext"];
}

/**
 * The methods we select from an incoming crypto_provide, best first. Under `prefer`, offered both, we select
 * plaintext: the handshake is still obfuscated (what defeats throttling by protocol signature) and the
 * payload costs no RC4 on either side; a peer that wants RC4 offers only RC4 and gets it. libtorrent does
 * the same by default (prefer_rc4 off). Under `require`, RC4 only.
 */
export function acceptedMethods(policy: EncryptionPolicy): MseMethod[] {
  return policy === "require" ? ["rc4"] : ["plaintext", "rc4"];
}

/** Whether an incoming connection of this kind is served at all. */
export function acceptsIncoming(policy: EncryptionPolicy, kind: Exclude<IncomingKind, "need-more">): boolean {
  return kind === "mse" ? policy !== "disable" : policy !== "require";
}
