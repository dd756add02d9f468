// One error class for everything wrong with a .torrent or with a request to make one.

export type MetainfoErrorCode =
  /** The bytes are not valid bencode (the message carries the byte offset). */
  | "bencode"
  | "not-a-dict"
  | "missing-info"
  | "bad-name"
  | "bad-piece-length"
  | "bad-pieces"
  | "bad-length"
  | "bad-files"
  | "unsafe-path"
  | "duplicate-path"
  | "empty-torrent"
  | "v2-only"
  /** create: an option is out of range (piece length, tracker URL...). */
  | "bad-option"
  /** create: the data read did not match the file list (a file changed while hashing). */
  | "data-mismatch";

export class MetainfoError extends Error {
  override readonly name = "MetainfoError";
  constructor(
    readonly code: MetainfoErrorCode,
    message: string,
  ) {
    super(message);
  }
}
