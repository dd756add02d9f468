// Opening the state file: created whole on first use, configured for durability at a sensible cost,
// checked to be ours and brought to the current schema.
//
// Durability: WAL with synchronous=NORMAL. A commit appends to the WAL with a write() and no fsync; the
// WAL is synced at checkpoints. After the process dies (SIGKILL, crash) every committed transaction is
// in the OS's page cache and survives, and the file is never torn; only an OS crash or power loss can
// lose the last commits (never corrupt the file). FULL would add an fsync per commit (milliseconds, more
// on cloud disks) to protect against power loss, where the piece data itself, never fsynced, is no
// safer: the resume data would then be more durable than what it describes.
//
// A state file is created whole (built under a temporary name, then renamed), so an empty file at the
// path means it was truncated, and is refused like any damaged file: never an empty torrent list.
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import { StateError, startFreshHint } from "./state-errors.ts";
import { migrate } from "./state-schema.ts";

/** Waits this long for a lock inside SQLite (a checkpoint, a reader such as the sqlite3 shell). */
const BUSY_TIMEOUT_MS = 5000;

/** The state file at `file`, ready for use; the caller holds the state dir's lock. */
export function openStateFile(file: string): Database {
  if (!fs.existsSync(file)) {
    // SQLite would apply a WAL left behind to the new file and corrupt it.
    if (fs.existsSync(`${file}-wal`)) {
      throw new StateError(
        "corrupt",
        `state file ${file} is missing but its write-ahead log ${file}-wal is there (moved without it?). ${startFreshHint(file)}`,
      );
    }
    createWhole(file);
  }
  if (fs.statSync(file).size === 0) {
    throw new StateError("corrupt", `state file ${file} is empty (truncated?). ${startFreshHint(file)}`);
  }
  const db = new Database(file, { readwrite: true, strict: true });
  try {
    configure(db);
    migrate(db, file);
    // Reads every page of the torrent list now, so damage shows at start rather than mid-run.
    db.query("SELECT count(*) FROM torrents WHERE length(metainfo) >= 0").get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function configure(db: Database): void {
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
}

/** Builds a new state file under a temporary name and renames it into place: it exists whole or not at all. */
function createWhole(file: string): void {
  const temp = `${file}.new`;
  for (const f of [temp, `${temp}-wal`, `${temp}-shm`, `${temp}-journal`]) fs.rmSync(f, { force: true });
  const db = new Database(temp, { create: true, strict: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    migrate(db, temp);
  } finally {
    db.close(); // checkpoints the WAL into the file and removes it
  }
  const fd = fs.openSync(temp, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}
