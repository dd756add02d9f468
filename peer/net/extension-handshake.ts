// BEP 10 extension handshake, used only to learn the peer's `reqq` (how many requests it queues) and to
// tell peers ours. We advertise no extension messages, so nothing else of BEP 10 is needed.
import { decode, encode, type BDict } from "../../shared/bencode.ts";

export const EXTENDED_MESSAGE_ID = 20;
/** Reserved byte 5, bit 0x10: "I speak the extension protocol". */
export const EXTENSION_BIT = { byte: 5, mask: 0x10 } as const;

/** How many requests we accept queued from one peer; anything beyond is dropped (libtorrent does the same). */
export const OUR_REQQ = 500;

export function encodeExtensionHandshake(listenPort: number): Uint8Array {
  const body = encode({ m: {}, reqq: OUR_REQQ, v: "btpeer 0.1.0", ...(listenPort > 0 ? { p: listenPort } : {}) });
  const payload = new Uint8Array(body.length + 1);
  payload[0] = 0; // extended message id 0 = handshake
  payload.set(body, 1);
  return payload;
}

/** The peer's `reqq`, or null when the payload is not a handshake or carries none. Never throws. */
export function readPeerReqq(payload: Uint8Array): number | null {
  if (payload.length < 2 || payload[0] !== 0) return null;
  try {
    const dict = decode(payload.subarray(1)) as BDict;
    const reqq = dict.reqq;
    return typeof reqq === "number" && Number.isInteger(reqq) && reqq > 0 ? reqq : null;
  } catch {
    return null;
  }
}
