// The daemon's state store on real bun:sqlite files: round trips, the lock between processes, and
// damaged files refused with a typed error that names them.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { infoHashFromHex } from "../../shared/ids.ts";
import { StateError, type StateErrorCode } from "../../peer/daemon/state-errors.ts";
import { SCHEMA_VERSION } from "../../peer/daemon/state-schema.ts";
import { STATE_FILE, StateStore, type TorrentRecord } from "../../peer/daemon/state-store.ts";
import { spawnService } from "../support/processes.ts";
import { CRASH_TORRENT } from "./state-fixture.ts";

const dirs: string[] = [];
const stores: StateStore[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-state-"));
  dirs.push(dir);
  return dir;
}
function open(dir: string): StateStore {
  const store = StateStore.open(dir);
  stores.push(store);
  return store;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): StateError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StateError) return error;
    throw error;
  }
  throw new Error("expected a StateError, got none");
}

const OTHER: TorrentRecord = {
  infoHash: infoHashFromHex("ffeeddccbbaa99887766554433221100ffeeddcc"),
  metainfo: new Uint8Array([100, 101, 0, 255, 1]),
  savePath: "/srv/other",
  options: { seed: false, uploadLimit: 52428800, trackers: ["http://127.0.0.1:1/announce"] },
  state: "paused",
  addedAt: 1_700_000_000_001,
};

describe("round trips", () => {
  test("torrents, their updates and resume data survive a close and reopen", () => {
    const dir = tempDir();
    const store = open(dir);
    expect(store.listTorrents()).toEqual([]);
    store.addTorrent(CRASH_TORRENT);
    store.addTorrent(OTHER);
    store.setTorrentState(CRASH_TORRENT.infoHash, "seeding");
    store.setOptions(OTHER.infoHash, { seed: true });
    store.setSavePath(OTHER.infoHash, "/srv/moved");
    const bitfield = new Bitfield(20);
    for (const p of [0, 3, 19]) bitfield.set(p);
    store.writeResume(
      [
        {
          infoHash: CRASH_TORRENT.infoHash,
          pieceCount: 20,
          bitfield: bitfield.bytes,
          uploaded: 2 ** 40 + 3, // totals past 32 bits
          downloaded: 123,
          files: [
            { index: 0, stamp: { size: 10, mtimeMs: 1_700_000_000_123.5 } },
            { index: 2, stamp: { size: 30, mtimeMs: 5 } },
          ],
        },
      ],
      42,
    );
    store.setBlob("dht/routing-table", new Uint8Array([1, 2, 3]));
    store.close();

    const again = open(dir);
    const { hex: _, ...crash } = CRASH_TORRENT;
    expect(again.listTorrents()).toEqual([
      { ...crash, state: "seeding" },
      { ...OTHER, options: { seed: true }, savePath: "/srv/moved" },
    ]);
    const resume = again.getResume(CRASH_TORRENT.infoHash)!;
    expect([...resume.bitfield.bytes]).toEqual([...bitfield.bytes]);
    expect(resume).toMatchObject({ pieceCount: 20, uploaded: 2 ** 40 + 3, downloaded: 123, updatedAt: 42 });
    expect(resume.files).toEqual([{ size: 10, mtimeMs: 1_700_000_000_123.5 }, null, { size: 30, mtimeMs: 5 }]);
    expect(again.getResume(OTHER.infoHash)).toBeNull();
    expect([...again.getBlob("dht/routing-table")!]).toEqual([1, 2, 3]);
    expect(again.getBlob("nothing")).toBeNull();
  });

  test("removing a torrent removes its resume data; adding it twice or updating a missing one is a typed error", () => {
    const store = open(tempDir());
    store.addTorrent(CRASH_TORRENT);
    expect(errorOf(() => store.addTorrent(CRASH_TORRENT)).code).toBe("exists");
    store.writeResume([
      {
        infoHash: CRASH_TORRENT.infoHash,
        pieceCount: 8,
        bitfield: new Uint8Array([0xff]),
        uploaded: 0,
        downloaded: 0,
        files: [{ index: 0, stamp: { size: 1, mtimeMs: 1 } }],
      },
    ]);
    expect(store.removeTorrent(CRASH_TORRENT.infoHash)).toBe(true);
    expect(store.removeTorrent(CRASH_TORRENT.infoHash)).toBe(false);
    expect(store.getResume(CRASH_TORRENT.infoHash)).toBeNull();
    expect(errorOf(() => store.setTorrentState(CRASH_TORRENT.infoHash, "paused")).code).toBe("unknown-torrent");
    // Resume data of a torrent removed before the flush is dropped, not an error.
    store.writeResume([{ infoHash: CRASH_TORRENT.infoHash, pieceCount: 8, bitfield: new Uint8Array([1]), uploaded: 0, downloaded: 0, files: [] }]);
    expect(store.getResume(CRASH_TORRENT.infoHash)).toBeNull();
    // Re-added, it starts without the old torrent's resume data.
    store.addTorrent(CRASH_TORRENT);
    expect(store.getResume(CRASH_TORRENT.infoHash)).toBeNull();
  });

  test("torrentPages reads the torrents in the order they were added, a page at a time, even with equal added times", () => {
    const store = open(tempDir());
    const hex = (i: number) => i.toString(16).padStart(40, "0");
    // Two torrents per millisecond: a page may end between two with the same added time.
    for (let i = 0; i < 7; i++) store.addTorrent({ ...OTHER, infoHash: infoHashFromHex(hex(100 - i)), addedAt: 1_700_000_000_000 + Math.floor(i / 2) });
    const pages = [...store.torrentPages(3)].map((page) => page.map((r) => Buffer.from(r.infoHash).toString("hex")));
    expect(pages).toEqual([[hex(100), hex(99), hex(98)], [hex(97), hex(96), hex(95)], [hex(94)]]);
    // A page is read when asked for: a torrent added between two pages is in a later one.
    const reading = store.torrentPages(4);
    expect(reading.next().value).toHaveLength(4);
    store.addTorrent({ ...OTHER, infoHash: infoHashFromHex(hex(1)), addedAt: 1_800_000_000_000 });
    expect([...reading].flat().map((r) => Buffer.from(r.infoHash).toString("hex"))).toEqual([hex(96), hex(95), hex(94), hex(1)]);
    expect(store.listTorrents()).toHaveLength(8);
  });

  test("the file is in WAL mode and carries the schema version", () => {
    const dir = tempDir();
    open(dir).close();
    const db = new Database(path.join(dir, STATE_FILE), { readonly: true });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("SELECT version FROM schema_version").get()).toEqual({ version: SCHEMA_VERSION });
    db.close();
  });
});

describe("one process per state dir", () => {
  test("a second opener in the same process is refused until the first closes", () => {
    const dir = tempDir();
    const first = StateStore.open(dir);
    const error = errorOf(() => StateStore.open(dir));
    expect(error.code).toBe("locked");
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(dir);
    first.close();
    open(dir);
  });

  test("another process holding the dir is named by its pid; once it is SIGKILLed the dir opens", async () => {
    const dir = tempDir();
    const child = await spawnService({
      name: "state holder",
      cmd: [process.execPath, path.join(import.meta.dir, "state-child.ts"), "hold", dir],
      ready: { line: /^open$/ },
    });
    try {
      const error = errorOf(() => StateStore.open(dir));
      expect(error.code).toBe("locked");
      expect(error.message).toContain(`another btpeer (pid ${child.pid})`);
    } finally {
      child.proc.kill("SIGKILL");
      await child.exited;
    }
    open(dir).addTorrent(CRASH_TORRENT); // the OS dropped the lock with the process
  });
});

describe("a state file that cannot be used is refused, naming it", () => {
  function expectRefused(dir: string, code: StateErrorCode): void {
    const file = path.join(dir, STATE_FILE);
    const error = errorOf(() => StateStore.open(dir));
    expect(error.code).toBe(code);
    expect(error.message).toContain(file);
    expect(error.message).toContain(`mv "${file}" "${file}.broken"`);
    // Refused, not replaced: the file is as it was, and the dir is not left locked.
    expect(fs.existsSync(file)).toBe(true);
    expect(errorOf(() => StateStore.open(dir)).code).toBe(code);
  }

  function withTorrents(): { dir: string; bytes: Buffer } {
    const dir = tempDir();
    const store = StateStore.open(dir);
    for (let i = 0; i < 200; i++) {
      store.addTorrent({ ...OTHER, infoHash: infoHashFromHex(i.toString(16).padStart(40, "0")), metainfo: new Uint8Array(3000).fill(i) });
    }
    store.close();
    return { dir, bytes: fs.readFileSync(path.join(dir, STATE_FILE)) };
  }

  test("garbage", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, STATE_FILE), crypto.getRandomValues(new Uint8Array(8192)));
    expectRefused(dir, "not-a-database");
  });

  test("a text file", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, STATE_FILE), "torrents:\n  - ubuntu.iso\n".repeat(200));
    expectRefused(dir, "not-a-database");
  });

  test.each([0, 50, 4096, 100_000, -4096])("truncated to %d bytes", (cut) => {
    const { dir, bytes } = withTorrents();
    fs.writeFileSync(path.join(dir, STATE_FILE), bytes.subarray(0, cut < 0 ? bytes.length + cut : cut));
    expectRefused(dir, "corrupt");
  });

  test("a page overwritten in the middle", () => {
    const { dir, bytes } = withTorrents();
    bytes.fill(0xa5, 8192, 8192 + 4096);
    fs.writeFileSync(path.join(dir, STATE_FILE), bytes);
    expectRefused(dir, "corrupt");
  });

  test("a write-ahead log without its state file", () => {
    const dir = tempDir();
    const store = StateStore.open(dir);
    store.addTorrent(CRASH_TORRENT); // in the WAL until a checkpoint
    const file = path.join(dir, STATE_FILE);
    fs.copyFileSync(`${file}-wal`, path.join(dir, "kept-wal"));
    store.close();
    fs.rmSync(file);
    fs.renameSync(path.join(dir, "kept-wal"), `${file}-wal`);
    const error = errorOf(() => StateStore.open(dir));
    expect(error.code).toBe("corrupt");
    expect(error.message).toContain(`${file}-wal`);
    expect(fs.existsSync(file)).toBe(false); // no fresh file was made next to the log
  });

  test("written by a newer btpeer", () => {
    const dir = tempDir();
    StateStore.open(dir).close();
    const db = new Database(path.join(dir, STATE_FILE));
    db.run("UPDATE schema_version SET version = ?", [SCHEMA_VERSION + 1]);
    db.close();
    expectRefused(dir, "newer-schema");
    expect(errorOf(() => StateStore.open(dir)).message).toContain(`schema ${SCHEMA_VERSION + 1}`);
  });

  test("another program's SQLite database", () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, STATE_FILE), { create: true });
    db.run("CREATE TABLE moz_places (url TEXT)");
    db.close();
    expectRefused(dir, "not-a-state-file");
  });
});
