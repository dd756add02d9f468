// The one error class of on-disk storage, with codes the CLI turns into a clear line and exit code.

export type StorageErrorCode =
  | "unwritable" // the output folder or a file in it cannot be created or written (permissions, read-only)
  | "disk-full" // ENOSPC / EDQUOT
  | "path-escape" // a torrent path that would resolve outside the output folder (incl. through a symlink)
  | "missing-data" // a read past what is on disk (a file shorter than the torrent says)
  | "bad-range" // a piece index or block range outside the torrent
  | "io"; // anything else the OS reported

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Maps an OS error from `fs` to a StorageError that says what to do. */
export function storageErrorFrom(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = (error as { code?: string } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case "EACCES":
    case "EPERM":
    case "EROFS":
    case "ENOTDIR":
    case "EISDIR":
      return new StorageError("unwritable", `cannot write ${what} (${code}): check the folder exists and is writable`);
    case "ENOSPC":
    case "EDQUOT":
      return new StorageError("disk-full", `disk full while writing ${what}: free some space and run again`);
    case "ELOOP":
      return new StorageError("path-escape", `refusing to follow a symlink at ${what}`);
    default:
      return new StorageError("io", `I/O error on ${what}: ${detail}`);
  }
}
