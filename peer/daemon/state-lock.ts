// One daemon per state dir. The lock is SQLite's own file lock on a small database beside the state
// file, taken in exclusive locking mode and held for the life of the connection: the OS drops it when the
// process dies, even by SIGKILL, so a crash never leaves a stale lock (a pid file alone would, and a
// reused pid would then look alive). The pid file beside it only names the holder in the error.
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as path from "node:path";
import { StateError } from "./state-errors.ts";

export const LOCK_FILE = "state.lock";
export const PID_FILE = "state.pid";

export class StateLock {
  readonly #db: Database;
  readonly #pidFile: string;

  private constructor(db: Database, pidFile: string) {
    this.#db = db;
    this.#pidFile = pidFile;
  }

  /** Takes the lock on `dir` at once (no waiting), or throws `locked` naming the holder's pid. */
  static acquire(dir: string): StateLock {
    const file = path.join(dir, LOCK_FILE);
    const pidFile = path.join(dir, PID_FILE);
    let db: Database | undefined;
    try {
      db = new Database(file, { create: true, strict: true });
      db.run("PRAGMA busy_timeout = 0");
      db.run("PRAGMA locking_mode = EXCLUSIVE");
      // The first write takes the exclusive lock, which exclusive locking mode then keeps until close.
      db.run("CREATE TABLE IF NOT EXISTS holder (pid INTEGER)");
      db.transaction(() => {
        db!.run("DELETE FROM holder");
        db!.run("INSERT INTO holder (pid) VALUES (?)", [process.pid]);
      }).exclusive();
    } catch (error) {
      db?.close();
      const code = (error as { code?: string }).code ?? "";
      if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
        const holder = readPid(pidFile);
        const who = holder ? `another btpeer (pid ${holder})` : "another btpeer";
        throw new StateError("locked", `the state dir ${dir} is in use by ${who}; stop it first, or give this one another state dir`);
      }
      const detail = error instanceof Error ? error.message : String(error);
      throw new StateError(
        code === "SQLITE_NOTADB" ? "corrupt" : "unreadable",
        `cannot take the lock ${file} (${detail}); it holds no data: delete it and start again`,
      );
    }
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    return new StateLock(db, pidFile);
  }

  release(): void {
    if (readPid(this.#pidFile) === process.pid) fs.rmSync(this.#pidFile, { force: true });
    this.#db.close();
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
