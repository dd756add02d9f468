// On-disk storage of a torrent: positional file I/O and parallel verification of existing data.
export { StorageError, type StorageErrorCode } from "./errors.ts";
export { TorrentStorage } from "./torrent-storage.ts";
export { layoutFiles, type FileSpan } from "./layout.ts";
export { verifyExisting, type VerifyOptions } from "../verify/verify.ts";
