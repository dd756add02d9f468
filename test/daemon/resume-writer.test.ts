// ResumeWriter on a real store and real files: batching (counted in transactions, not timed), the
// stamps it records, and what planResume then trusts.
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { infoHashFromHex } from "../../shared/ids.ts";
import { planResume, stampFile } from "../../peer/daemon/resume-plan.ts";
import { ResumeWriter, type WriterLayout } from "../../peer/daemon/resume-writer.ts";
import { StateStore } from "../../peer/daemon/state-store.ts";
import { CRASH_TORRENT, layoutOf, pieceOnDiskIsRight, writePiece } from "./state-fixture.ts";

const dirs: string[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const HASH = CRASH_TORRENT.infoHash;

/** A store with the torrent added and its three files on disk at full length (sparse). */
function setup(sizes = [40_000, 25_000, 15_000]): { dir: string; store: StateStore; layout: WriterLayout; fds: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-resume-"));
  dirs.push(dir);
  const store = StateStore.open(dir);
  store.addTorrent(CRASH_TORRENT);
  const layout = layoutOf(path.join(dir, "data"), 4096, sizes);
  fs.mkdirSync(path.join(dir, "data"));
  const fds = layout.files.map((f) => {
    fs.writeFileSync(f.path, "");
    fs.truncateSync(f.path, f.length);
    return fs.openSync(f.path, "r+");
  });
  cleanups.push(() => {
    for (const fd of fds) fs.closeSync(fd);
    store.close();
  });
  return { dir, store, layout, fds };
}

const stamps = (layout: WriterLayout) => layout.files.map((f) => stampFile(f.path));

/** Pretends a write lands later than the stamp was taken, whatever the file system's clock granularity. */
function bumpMtime(file: string): void {
  const st = fs.statSync(file);
  fs.utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
}

describe("batching", () => {
  test("marks are written maxPieces at a time, one transaction each, and the rest on close", () => {
    const { store, layout, fds } = setup();
    const commits: number[][] = [];
    const writer = new ResumeWriter(store, { intervalMs: 60_000, maxPieces: 8, onCommit: (c) => commits.push([...c.get(CRASH_TORRENT.hex)!]) });
    writer.track(HASH, layout, { bitfield: new Bitfield(layout.pieceCount), uploaded: 0, downloaded: 0 });
    const before = store.transactions;
    for (let p = 0; p < 19; p++) {
      writer.writeStarted(HASH, p);
      writePiece(layout, fds, p);
      writer.markVerified(HASH, p);
    }
    expect(writer.flushes).toBe(2); // after pieces 7 and 15
    expect(store.transactions - before).toBe(2);
    expect(commits).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [8, 9, 10, 11, 12, 13, 14, 15],
    ]);
    expect(store.getResume(HASH)!.bitfield.count()).toBe(16);
    writer.close();
    expect(writer.flushes).toBe(3);
    expect(commits[2]).toEqual([16, 17, 18]);
    expect(store.getResume(HASH)!.bitfield.count()).toBe(19);
  });

  test("several torrents and their totals go in one transaction on the timer", async () => {
    const { store, layout } = setup();
    const other = infoHashFromHex("ffeeddccbbaa99887766554433221100ffeeddcc");
    store.addTorrent({ ...CRASH_TORRENT, infoHash: other });
    const writer = new ResumeWriter(store, { intervalMs: 10, maxPieces: 1000 });
    cleanups.unshift(() => writer.close());
    writer.track(HASH, layout, { bitfield: new Bitfield(layout.pieceCount), uploaded: 0, downloaded: 0 });
    writer.track(other, layout, { bitfield: new Bitfield(layout.pieceCount), uploaded: 5, downloaded: 6 });
    writer.markVerified(HASH, 1);
    writer.markVerified(other, 2);
    writer.setTotals(other, 7, 8);
    const before = store.transactions;
    for (let i = 0; i < 500 && writer.flushes === 0; i++) await Bun.sleep(10); // a safety bound, not a timing check
    expect(writer.flushes).toBe(1);
    expect(store.transactions - before).toBe(1);
    expect(store.getResume(HASH)!.bitfield.has(1)).toBe(true);
    expect(store.getResume(other)).toMatchObject({ uploaded: 7, downloaded: 8 });
    expect(store.getResume(other)!.bitfield.has(2)).toBe(true);
    expect(writer.flush()).toBe(0); // nothing pending: no empty transaction
    expect(store.transactions - before).toBe(1);
  });
});

describe("stamps and what a restart trusts", () => {
  test("after a clean close nothing is re-checked and every marked piece is trusted", () => {
    const { store, layout, fds } = setup();
    const writer = new ResumeWriter(store);
    writer.track(HASH, layout, { bitfield: new Bitfield(layout.pieceCount), uploaded: 0, downloaded: 0 });
    for (const p of [0, 5, 9, 10, 19]) {
      writer.writeStarted(HASH, p);
      writePiece(layout, fds, p);
      writer.markVerified(HASH, p);
    }
    writer.close();
    const plan = planResume(layout, store.getResume(HASH), stamps(layout));
    expect(plan.files).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(plan.recheck).toEqual([]);
    expect([...Array(layout.pieceCount).keys()].filter((p) => plan.verified.has(p))).toEqual([0, 5, 9, 10, 19]);
  });

  test("a write after the last flush makes its file re-checked, and finds the unmarked piece", () => {
    const { store, layout, fds } = setup();
    const writer = new ResumeWriter(store);
    writer.track(HASH, layout, { bitfield: new Bitfield(layout.pieceCount), uploaded: 0, downloaded: 0 });
    writePiece(layout, fds, 0);
    writer.markVerified(HASH, 0);
    writer.flush();
    // Piece 3 (file 0 only) is written, then the process dies before marking it.
    writer.writeStarted(HASH, 3);
    writePiece(layout, fds, 3);
    bumpMtime(layout.files[0]!.path);
    const plan = planResume(layout, store.getResume(HASH), stamps(layout));
    expect(plan.files).toEqual(["changed", "unchanged", "unchanged"]);
    // File 0 holds pieces 0-9 (piece 9 straddles into file 1): all re-checked, including the trusted piece 0.
    expect(plan.recheck).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(plan.verified.count()).toBe(0);
    expect(plan.recheck.filter((p) => pieceOnDiskIsRight(layout, p))).toEqual([0, 3]);
  });

  test("a flush does not stamp a file with a write under way; the next one after the write does", () => {
    const { store, layout, fds } = setup();
    const writer = new ResumeWriter(store);
    writer.track(HASH, layout, { bitfield: new Bitfield(layout.pieceCount), uploaded: 0, downloaded: 0 });
    writer.flush();
    const first = store.getResume(HASH)!.files;
    expect(first).toEqual(stamps(layout));
    writer.writeStarted(HASH, 2); // file 0
    writePiece(layout, fds, 2);
    bumpMtime(layout.files[0]!.path);
    writer.writeStarted(HASH, 12); // file 1
    writePiece(layout, fds, 12);
    bumpMtime(layout.files[1]!.path);
    writer.markVerified(HASH, 12);
    writer.flush();
    const second = store.getResume(HASH)!;
    expect(second.files[0]).toEqual(first[0]!); // piece 2's write is under way: old stamp kept
    expect(second.files[1]).toEqual(stampFile(layout.files[1]!.path)!);
    expect(planResume(layout, second, stamps(layout)).files).toEqual(["changed", "unchanged", "unchanged"]);
    writer.markVerified(HASH, 2);
    writer.close();
    const plan = planResume(layout, store.getResume(HASH), stamps(layout));
    expect(plan.files).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(plan.recheck).toEqual([]);
    expect(plan.verified.has(2) && plan.verified.has(12)).toBe(true);
  });

  test("a file that changed size is re-checked, a deleted file's pieces are missing", () => {
    const { store, layout, fds } = setup();
    const writer = new ResumeWriter(store);
    const all = new Bitfield(layout.pieceCount);
    for (let p = 0; p < layout.pieceCount; p++) {
      writePiece(layout, fds, p);
      all.set(p);
    }
    writer.track(HASH, layout, { bitfield: all, uploaded: 0, downloaded: 0 });
    writer.close();
    const mtimes = layout.files.map((f) => fs.statSync(f.path));
    fs.truncateSync(layout.files[1]!.path, 1000);
    fs.utimesSync(layout.files[1]!.path, mtimes[1]!.atime, mtimes[1]!.mtime); // same mtime, other size
    fs.rmSync(layout.files[2]!.path);
    const plan = planResume(layout, store.getResume(HASH), stamps(layout));
    expect(plan.files).toEqual(["unchanged", "changed", "missing"]);
    // File 1 spans pieces 9-15, file 2 pieces 15-19; piece 15 touches the missing file.
    expect(plan.recheck).toEqual([9, 10, 11, 12, 13, 14]);
    expect([...Array(layout.pieceCount).keys()].filter((p) => plan.verified.has(p))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
