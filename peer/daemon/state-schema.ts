// The state file's schema and its migrations. The file is marked as ours by SQLite's application_id
// (so a database of another program is refused, not altered) and carries its version in `schema_version`;
// each migration runs in its own transaction with the version bump, so a crash leaves a whole version.
import type { Database } from "bun:sqlite";
import { StateError, startFreshHint } from "./state-errors.ts";

/** "BTSW" */
export const APPLICATION_ID = 0x42545357;

/** migrations[i] takes a file from version i to i + 1. Append only: never edit a shipped step. */
const MIGRATIONS: ((db: Database) => void)[] = [
  (db) => {
    db.run("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    db.run("INSERT INTO schema_version (version) VALUES (0)");
    db.run(`CREATE TABLE torrents (
      info_hash TEXT PRIMARY KEY,   -- 40 lowercase hex digits
      metainfo BLOB NOT NULL,       -- the .torrent as added
      save_path TEXT NOT NULL,
      options TEXT NOT NULL,        -- JSON object
      state TEXT NOT NULL,
      added_at INTEGER NOT NULL     -- ms since the epoch
    )`);
    // One row per torrent, rewritten whole by each flush: the bitfield is ceil(pieces / 8) bytes.
    db.run(`CREATE TABLE resume (
      info_hash TEXT PRIMARY KEY REFERENCES torrents (info_hash) ON DELETE CASCADE,
      piece_count INTEGER NOT NULL,
      bitfield BLOB NOT NULL,
      uploaded INTEGER NOT NULL,
      downloaded INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    )`);
    // Each file's size and mtime as the last flush that covered a write to it saw them.
    db.run(`CREATE TABLE resume_files (
      info_hash TEXT NOT NULL REFERENCES torrents (info_hash) ON DELETE CASCADE,
      file_index INTEGER NOT NULL,
      size INTEGER NOT NULL,
      mtime_ms REAL NOT NULL,
      PRIMARY KEY (info_hash, file_index)
    ) WITHOUT ROWID`);
    // Blobs of later parts (the DHT routing table, fetched magnet metadata) under keys they own.
    db.run("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
    db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Checks the file is ours and of a version we know, then brings it up to SCHEMA_VERSION. */
export function migrate(db: Database, file: string): void {
  const appId = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
  const tables = (db.query("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n;
  if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
    throw new StateError("not-a-state-file", `${file} is a SQLite database of another program, not a btpeer state file. ${startFreshHint(file)}`);
  }
  let version = appId === 0 ? 0 : currentVersion(db, file);
  if (version > SCHEMA_VERSION) {
    throw new StateError(
      "newer-schema",
      `state file ${file} was written by a newer btpeer (schema ${version}; this one knows up to ${SCHEMA_VERSION}): ` +
        `run the newer btpeer. ${startFreshHint(file)}`,
    );
  }
  for (; version < SCHEMA_VERSION; version++) {
    const step = MIGRATIONS[version]!;
    const next = version + 1;
    db.transaction(() => {
      step(db);
      db.run("UPDATE schema_version SET version = ?", [next]);
    }).immediate();
  }
}

function currentVersion(db: Database, file: string): number {
  const row = db.query("SELECT version FROM schema_version").get() as { version: number } | null;
  if (!row) throw new StateError("corrupt", `state file ${file} has no schema version. ${startFreshHint(file)}`);
  return row.version;
}
