// MSE/PE ("protocol encryption"): the handshake codecs and the cipher, pure TypeScript with no I/O.
export { classifyIncoming, CLASSIFY_BYTES, FirstBytes, type IncomingKind } from "./classify.ts";
export { MseError, type MseErrorCode } from "./errors.ts";
export { MseInitiator, type InitiatorOptions } from "./initiator.ts";
export { SkeyTable, type CipherPair } from "./keys.ts";
export { MSE_PAD_MAX, type MseMethod } from "./methods.ts";
export { acceptedMethods, acceptsIncoming, nextAttempt, offeredMethods, parseEncryptionPolicy, type Attempt, type EncryptionPolicy } from "./policy.ts";
export { MseReceiver, type ReceiverOptions, type SkeyLookup } from "./receiver.ts";
export { mseRc4, Rc4 } from "./rc4.ts";
export type { MseResult, MseStep, RandomBytes } from "./step.ts";
