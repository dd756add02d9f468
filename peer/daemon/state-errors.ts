// The one error class of the daemon's state store. Every failure of the state file names the file and
// says how to start fresh; the store never answers a broken file with an empty torrent list.

export type StateErrorCode =
  | "locked" // another btpeer holds this state dir
  | "not-a-database" // the file is not SQLite at all (garbage, another format)
  | "corrupt" // SQLite, but damaged or truncated
  | "not-a-state-file" // a SQLite database of some other program
  | "newer-schema" // written by a newer btpeer
  | "unreadable" // permissions, a folder in the way
  | "disk-full"
  | "io"
  | "exists" // addTorrent of an info hash already there
  | "unknown-torrent" // an update for an info hash that is not there
  | "closed"; // used after close()

export class StateError extends Error {
  override readonly name = "StateError";
  constructor(
    readonly code: StateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What to tell the user about a state file we cannot use. */
export function startFreshHint(file: string): string {
  return (
    `To start fresh, move it away (mv "${file}" "${file}.broken", with any "${file}-wal" and "${file}-shm" beside it) ` +
    `and start again: the torrent list will be empty; downloaded files are not touched.`
  );
}

/** True for errors of SQLite or the OS, which stateErrorFrom maps; bugs (TypeError...) pass through. */
export function isSystemError(error: unknown): boolean {
  if (error instanceof StateError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_") || /^E[A-Z]+$/.test(code));
}

/** Maps an error from bun:sqlite (or the OS) while using `file` to a StateError naming it. */
export function stateErrorFrom(error: unknown, file: string): StateError {
  if (error instanceof StateError) return error;
  const code = (error as { code?: string } | null)?.code ?? "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB") {
    return new StateError("not-a-database", `state file ${file} is not a SQLite database (${detail}). ${startFreshHint(file)}`);
  }
  if (code.startsWith("SQLITE_CORRUPT")) {
    return new StateError("corrupt", `state file ${file} is damaged (${detail}). ${startFreshHint(file)}`);
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC") {
    return new StateError("disk-full", `disk full while writing the state file ${file}: free some space and start again`);
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code === "EACCES" || code === "EPERM") {
    return new StateError("unreadable", `cannot open the state file ${file} for writing (${detail}): check the state dir's permissions`);
  }
  return new StateError("io", `error on the state file ${file}: ${detail}`);
}
