// Messages between verifyExisting (main thread) and its hashing workers.
import type { FileSpan } from "../storage/layout.ts";

export interface InitMessage {
  type: "init";
  /** The output folder (absolute): the worker opens files below it through its own OutputFolder. */
  dir: string;
  files: FileSpan[];
  pieceLength: number;
  pieceCount: number;
  length: number;
  /** All expected piece hashes, 20 bytes each. */
  pieceHashes: Uint8Array;
  /** The parts file's name in `dir` (parts-file.ts): skipped files' shares of boundary pieces. */
  partsName: string;
}

/** Hash pieces [first, first + count). */
export interface JobMessage {
  type: "job";
  first: number;
  count: number;
}

export type ToWorker = InitMessage | JobMessage;

export type FromWorker = { type: "result"; first: number; ok: Uint8Array; bytes: number } | { type: "error"; code: string; message: string };
