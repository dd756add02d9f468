// What MSE derives from the DH secret S and SKEY (the torrent's info hash): the hashes that let the
// receiver find the handshake in the stream and pick the torrent, and the two RC4 keys, one per direction.
import { Sha1 } from "../sha1.ts";
import { mseRc4, type Rc4 } from "./rc4.ts";

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const REQ1 = ascii("req1");
const REQ2 = ascii("req2");
const REQ3 = ascii("req3");
const KEY_A = ascii("keyA");
const KEY_B = ascii("keyB");

function sha1(...parts: Uint8Array[]): Uint8Array {
  const h = new Sha1();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HASH('req1', S): the receiver's synchronisation mark. */
export const req1Hash = (secret: Uint8Array) => sha1(REQ1, secret);
/** HASH('req2', SKEY): what a receiver looks a torrent up by. */
export const req2Hash = (skey: Uint8Array) => sha1(REQ2, skey);
/** HASH('req3', S): masks req2 on the wire, so SKEY is not visible to an observer. */
export const req3Hash = (secret: Uint8Array) => sha1(REQ3, secret);

export function xor20(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The connection's two ciphers: A (the initiator) encrypts with keyA, B (the receiver) with keyB. */
export interface CipherPair {
  encrypt: Rc4;
  decrypt: Rc4;
}

export function ciphersFor(role: "initiator" | "receiver", secret: Uint8Array, skey: Uint8Array): CipherPair {
  const a = mseRc4(sha1(KEY_A, secret, skey));
  const b = mseRc4(sha1(KEY_B, secret, skey));
  return role === "initiator" ? { encrypt: a, decrypt: b } : { encrypt: b, decrypt: a };
}

/**
 * The torrents a receiver can accept, looked up by HASH('req2', info hash). The Client builds it from
 * the torrents it owns (and updates it as they come and go); the handshake only reads it.
 */
export class SkeyTable {
  private readonly byReq2 = new Map<string, Uint8Array>();

  constructor(infoHashes: Iterable<Uint8Array> = []) {
    for (const h of infoHashes) this.add(h);
  }

  add(infoHash: Uint8Array): void {
    this.byReq2.set(key(req2Hash(infoHash)), infoHash.slice());
  }

  remove(infoHash: Uint8Array): void {
    this.byReq2.delete(key(req2Hash(infoHash)));
  }

  /** The info hash whose HASH('req2', ·) is `req2`, if we have it. */
  find(req2: Uint8Array): Uint8Array | undefined {
    return this.byReq2.get(key(req2));
  }
}

const key = (hash: Uint8Array) => String.fromCharCode(...hash);
