// The daemon's state on disk, in SQLite through bun:sqlite: the torrents (metainfo bytes, save path,
// options, state), their resume data (verified-piece bitfield, each file's size and mtime, totals), and
// a key/value table for later parts (DHT routing table, magnet metadata). Resume data is written by
// ResumeWriter in batches, one transaction per flush; what a restart may trust is in resume-plan.ts;
// how the file is opened, and why it survives SIGKILL, in state-file.ts.
import type { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { infoHashFromHex, infoHashToHex, type InfoHash } from "../../shared/ids.ts";
import type { FileStamp, ResumeData } from "./resume-plan.ts";
import { isSystemError, StateError, startFreshHint, stateErrorFrom } from "./state-errors.ts";
import { StateLock } from "./state-lock.ts";
import { openStateFile } from "./state-file.ts";

export const STATE_FILE = "state.sqlite";

/** The torrent states of DESIGN.md's Torrent; the Client decides which it persists. */
export type TorrentState = "metadata" | "checking" | "downloading" | "paused" | "seeding" | "stopped" | "error";
const STATES = new Set<string>(["metadata", "checking", "downloading", "paused", "seeding", "stopped", "error"]);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** Per-torrent options as the Client defines them; stored as JSON. */
export type TorrentOptions = { readonly [key: string]: JsonValue };

export interface TorrentRecord {
  readonly infoHash: InfoHash;
  /** The .torrent file's bytes. */
  readonly metainfo: Uint8Array;
  readonly savePath: string;
  readonly options: TorrentOptions;
  readonly state: TorrentState;
  /** ms since the epoch. */
  readonly addedAt: number;
}

/** One torrent's part of a resume flush. */
export interface ResumeUpdate {
  readonly infoHash: InfoHash;
  readonly pieceCount: number;
  readonly bitfield: Uint8Array;
  readonly uploaded: number;
  readonly downloaded: number;
  /** Stamps to record now (files whose writes this flush covers); others keep theirs. */
  readonly files: readonly { readonly index: number; readonly stamp: FileStamp | null }[];
}

interface TorrentRow {
  info_hash: string;
  metainfo: Uint8Array;
  save_path: string;
  options: string;
  state: string;
  added_at: number;
}

export class StateStore {
  /** The state file. */
  readonly path: string;
  readonly dir: string;
  readonly #db: Database;
  readonly #lock: StateLock;
  #writes = 0;
  #closed = false;

  private constructor(dir: string, file: string, db: Database, lock: StateLock) {
    this.dir = dir;
    this.path = file;
    this.#db = db;
    this.#lock = lock;
  }

  /**
   * Opens (creating on first use) the state in `dir`. Throws StateError: `locked` when another process
   * holds it, and for a file that is not a usable state file, a code and a message naming it.
   */
  static open(dir: string): StateStore {
    const root = path.resolve(dir);
    const file = path.join(root, STATE_FILE);
    try {
      fs.mkdirSync(root, { recursive: true });
    } catch (error) {
      throw stateErrorFrom(error, root);
    }
    const lock = StateLock.acquire(root);
    try {
      return new StateStore(root, file, openStateFile(file), lock);
    } catch (error) {
      lock.release();
      throw isSystemError(error) ? stateErrorFrom(error, file) : error;
    }
  }

  /** Write transactions committed by this store so far (tests count batching with it). */
  get transactions(): number {
    return this.#writes;
  }

  addTorrent(record: TorrentRecord): void {
    this.#write(() => {
      const hex = infoHashToHex(record.infoHash);
      if (this.#db.query("SELECT 1 FROM torrents WHERE info_hash = ?").get(hex)) {
        throw new StateError("exists", `torrent ${hex} is already in ${this.path}`);
      }
      this.#db
        .query("INSERT INTO torrents (info_hash, metainfo, save_path, options, state, added_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run(hex, record.metainfo, record.savePath, JSON.stringify(record.options), checkState(record.state), record.addedAt);
    });
  }

  /** Removes the torrent and its resume data; false if it was not there. */
  removeTorrent(infoHash: InfoHash): boolean {
    return this.#write(() => this.#db.query("DELETE FROM torrents WHERE info_hash = ?").run(infoHashToHex(infoHash)).changes > 0);
  }

  /** In the order they were added. */
  listTorrents(): TorrentRecord[] {
    return [...this.torrentPages(Number.MAX_SAFE_INTEGER)].flat();
  }

  /**
   * Every torrent in the order they were added, `size` at a time: a page is read when the caller asks for
   * it, and no statement stays open between pages (a start-up holds one page of rows, not all of them).
   */
  *torrentPages(size: number): Generator<TorrentRecord[]> {
    let after: { addedAt: number; rowid: number } | null = null;
    for (;;) {
      const rows = this.#read(
        () =>
          (after
            ? this.#db
                .query("SELECT rowid AS row_id, * FROM torrents WHERE (added_at, rowid) > (?, ?) ORDER BY added_at, rowid LIMIT ?")
                .all(after.addedAt, after.rowid, size)
            : this.#db.query("SELECT rowid AS row_id, * FROM torrents ORDER BY added_at, rowid LIMIT ?").all(size)) as (TorrentRow & { row_id: number })[],
      );
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      after = { addedAt: last.added_at, rowid: last.row_id };
      yield rows.map((r) => this.#record(r));
      if (rows.length < size) return;
    }
  }

  getTorrent(infoHash: InfoHash): TorrentRecord | null {
    return this.#read(() => {
      const row = this.#db.query("SELECT * FROM torrents WHERE info_hash = ?").get(infoHashToHex(infoHash)) as TorrentRow | null;
      return row ? this.#record(row) : null;
    });
  }

  setTorrentState(infoHash: InfoHash, state: TorrentState): void {
    this.#update(infoHash, "state", checkState(state));
  }

  setOptions(infoHash: InfoHash, options: TorrentOptions): void {
    this.#update(infoHash, "options", JSON.stringify(options));
  }

  /**
   * The torrent's .torrent changed: a magnet link's metadata came (the .torrent made from it takes the
   * record's empty one), or its trackers did (the same info dictionary, another announce-list).
   */
  setMetainfo(infoHash: InfoHash, metainfo: Uint8Array): void {
    this.#update(infoHash, "metainfo", metainfo);
  }

  setSavePath(infoHash: InfoHash, savePath: string): void {
    this.#update(infoHash, "save_path", savePath);
  }

  getResume(infoHash: InfoHash): ResumeData | null {
    return this.#read(() => {
      const hex = infoHashToHex(infoHash);
      const row = this.#db.query("SELECT * FROM resume WHERE info_hash = ?").get(hex) as {
        piece_count: number;
        bitfield: Uint8Array;
        uploaded: number;
        downloaded: number;
        updated_at: number;
      } | null;
      if (!row) return null;
      const files: (FileStamp | null)[] = [];
      for (const f of this.#db.query("SELECT file_index, size, mtime_ms FROM resume_files WHERE info_hash = ?").all(hex) as {
        file_index: number;
        size: number;
        mtime_ms: number;
      }[]) {
        while (files.length < f.file_index) files.push(null);
        files[f.file_index] = { size: f.size, mtimeMs: f.mtime_ms };
      }
      return {
        pieceCount: row.piece_count,
        bitfield: this.#bitfield(row.piece_count, row.bitfield),
        files,
        uploaded: row.uploaded,
        downloaded: row.downloaded,
        updatedAt: row.updated_at,
      };
    });
  }

  /**
   * Writes the resume data of several torrents in one transaction (ResumeWriter's flush). A torrent
   * removed meanwhile is skipped.
   */
  writeResume(updates: readonly ResumeUpdate[], now = Date.now()): void {
    if (updates.length === 0) return;
    this.#write(() => {
      const resume = this.#db.query(
        `INSERT INTO resume (info_hash, piece_count, bitfield, uploaded, downloaded, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM torrents WHERE info_hash = ?1)
         ON CONFLICT (info_hash) DO UPDATE SET piece_count = excluded.piece_count, bitfield = excluded.bitfield,
           uploaded = excluded.uploaded, downloaded = excluded.downloaded, updated_at = excluded.updated_at`,
      );
      const stamp = this.#db.query(
        `INSERT INTO resume_files (info_hash, file_index, size, mtime_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (info_hash, file_index) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms`,
      );
      const unstamp = this.#db.query("DELETE FROM resume_files WHERE info_hash = ? AND file_index = ?");
      for (const u of updates) {
        const hex = infoHashToHex(u.infoHash);
        if (resume.run(hex, u.pieceCount, u.bitfield, u.uploaded, u.downloaded, now).changes === 0) continue;
        for (const f of u.files) {
          if (f.stamp) stamp.run(hex, f.index, f.stamp.size, f.stamp.mtimeMs);
          else unstamp.run(hex, f.index);
        }
      }
    });
  }

  getBlob(key: string): Uint8Array | null {
    return this.#read(() => (this.#db.query("SELECT value FROM kv WHERE key = ?").get(key) as { value: Uint8Array } | null)?.value ?? null);
  }

  setBlob(key: string, value: Uint8Array): void {
    this.#write(() => this.#db.query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value));
  }

  deleteBlob(key: string): boolean {
    return this.#write(() => this.#db.query("DELETE FROM kv WHERE key = ?").run(key).changes > 0);
  }

  /** Closes the file (checkpointing the WAL into it) and releases the state dir. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.close();
    } finally {
      this.#lock.release();
    }
  }

  #update(infoHash: InfoHash, column: "state" | "options" | "save_path" | "metainfo", value: string | Uint8Array): void {
    this.#write(() => {
      const hex = infoHashToHex(infoHash);
      if (this.#db.query(`UPDATE torrents SET ${column} = ? WHERE info_hash = ?`).run(value, hex).changes === 0) {
        throw new StateError("unknown-torrent", `torrent ${hex} is not in ${this.path}`);
      }
    });
  }

  #record(row: TorrentRow): TorrentRecord {
    if (!STATES.has(row.state)) this.#damaged(`torrent ${row.info_hash} has an unknown state "${row.state}"`);
    let options: TorrentOptions;
    try {
      options = JSON.parse(row.options) as TorrentOptions;
    } catch {
      this.#damaged(`torrent ${row.info_hash} has unreadable options`);
    }
    return {
      infoHash: infoHashFromHex(row.info_hash),
      metainfo: row.metainfo,
      savePath: row.save_path,
      options,
      state: row.state as TorrentState,
      addedAt: row.added_at,
    };
  }

  #bitfield(pieceCount: number, bytes: Uint8Array): Bitfield {
    try {
      return new Bitfield(pieceCount, bytes);
    } catch {
      this.#damaged(`a bitfield of ${bytes.length} bytes for ${pieceCount} pieces`);
    }
  }

  #damaged(what: string): never {
    throw new StateError("corrupt", `state file ${this.path} is damaged: ${what}. ${startFreshHint(this.path)}`);
  }

  #read<T>(fn: () => T): T {
    if (this.#closed) throw new StateError("closed", `the state store ${this.path} is closed`);
    try {
      return fn();
    } catch (error) {
      throw isSystemError(error) ? stateErrorFrom(error, this.path) : error;
    }
  }

  /** One write transaction (IMMEDIATE: takes the write lock up front, so it never fails half way for a lock). */
  #write<T>(fn: () => T): T {
    return this.#read(() => {
      const result = this.#db.transaction(fn).immediate();
      this.#writes++;
      return result;
    });
  }
}

function checkState(state: string): string {
  if (!STATES.has(state)) throw new TypeError(`unknown torrent state "${state}"`);
  return state;
}
