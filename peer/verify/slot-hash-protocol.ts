// Messages between a download (SlotHasher, main thread) and its hashing thread (slot-hash-worker.ts).

export type SlotHashRequest =
  | { type: "init"; pool: SharedArrayBuffer; pieceHashes: Uint8Array }
  /** Does pool[offset, offset + length) hash to piece `index`'s SHA-1? */
  | { type: "check"; id: number; index: number; offset: number; length: number };

export type SlotHashReply = { type: "result"; id: number; ok: boolean } | { type: "error"; id: number; message: string };
