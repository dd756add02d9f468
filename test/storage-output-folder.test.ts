// What lies below the output folder, at the storage level: BEP 47 padding files never reach the disk, and
// files are only ever opened below the folder, never through a symlink, by either way of opening them
// (openat from the folder's descriptor on glibc, and the checked fallback used without it).
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pieceSize } from "../shared/metainfo/types.ts";
import { StorageError, TorrentStorage, verifyExisting } from "../peer/storage/index.ts";
import { confinedOpenAvailable, openChecked, OutputFolder } from "../peer/storage/output-folder.ts";
import { contentOf, metainfoOf, randomBytes, type ContentFile } from "./support/metainfo-of.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "btpeer-outdir-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmp, `t${n++}`);
const PIECE = 32 * 1024;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof StorageError) return e.code;
    if (typeof (e as { code?: unknown }).code === "string") return (e as { code: string }).code;
    throw e;
  }
  return "no error";
}

describe("padding files in storage", () => {
  // a.bin ends inside piece 0; zeros pad it to the piece's end, and a whole piece of padding follows.
  const FILES: ContentFile[] = [
    { path: ["a.bin"], data: randomBytes(20_000) },
    { path: [".pad", "12768"], data: new Uint8Array(PIECE - 20_000) },
    { path: [".pad", "32768"], data: new Uint8Array(PIECE) },
    { path: ["b.bin"], data: randomBytes(40_000) },
  ];
  const padded = () => {
    const meta = metainfoOf("padded", FILES, PIECE);
    meta.files[1]!.padding = true;
    meta.files[2]!.padding = true;
    return meta;
  };

  test("are never created or written; read as zeros; a piece of nothing but padding checks out at once", async () => {
    const meta = padded();
    const all = contentOf(FILES);
    const dir = freshDir();
    const s = TorrentStorage.open(meta, dir);
    expect(fs.readdirSync(path.join(dir, "padded")).sort()).toEqual(["a.bin", "b.bin"]);
    expect(s.mayHoldData(0)).toBe(false); // a.bin was just created: known missing, not hashed
    expect(s.mayHoldData(1)).toBe(true); // all padding: zeros, there already
    for (let i = 0; i < meta.pieceCount; i++) s.writePiece(i, all.slice(i * PIECE, i * PIECE + pieceSize(meta, i)));
    expect(fs.readdirSync(path.join(dir, "padded")).sort()).toEqual(["a.bin", "b.bin"]);
    const block = new Uint8Array(PIECE).fill(7);
    s.readBlock(0, 16_384, PIECE - 16_384, block, 0); // a.bin's tail, then padding
    expect(Buffer.compare(block.subarray(0, PIECE - 16_384), all.subarray(16_384, PIECE))).toBe(0);
    s.close();
    const have = await verifyExisting(meta, dir, { workers: 2 });
    expect(have.count()).toBe(meta.pieceCount);
    expect(fs.existsSync(path.join(dir, "padded", ".pad"))).toBe(false);
  });
});

describe("OutputFolder", () => {
  /** out/ with a real folder `in`, a symlink `link` to a folder outside, and a file there. */
  function scene(): { out: string; outside: string } {
    const base = freshDir();
    const out = path.join(base, "out");
    const outside = path.join(base, "outside");
    fs.mkdirSync(path.join(out, "in"), { recursive: true });
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, "f"), "outside");
    fs.writeFileSync(path.join(out, "in", "f"), "inside");
    fs.symlinkSync(outside, path.join(out, "link"));
    fs.symlinkSync(path.join(outside, "f"), path.join(out, "in", "file-link"));
    return { out, outside };
  }
  const RW = fs.constants.O_RDWR;
  const CREATE = fs.constants.O_RDWR | fs.constants.O_CREAT;

  test.skipIf(process.platform !== "linux")("on Linux with glibc, files are opened from the folder's descriptor", () => {
    expect(confinedOpenAvailable()).toBe(true);
  });

  test("opens and creates below the folder, refusing a symlinked folder or file and creating nothing through it", () => {
    const { out, outside } = scene();
    const folder = new OutputFolder(out);
    try {
      const fd = folder.open(["in", "new", "deeper", "g"], CREATE);
      fs.writeSync(fd, "ok");
      fs.closeSync(fd);
      expect(fs.readFileSync(path.join(out, "in", "new", "deeper", "g"), "utf8")).toBe("ok");
      expect(codeOf(() => folder.open(["link", "f"], RW))).toBe("path-escape");
      expect(codeOf(() => folder.open(["link", "sub", "g"], CREATE))).toBe("path-escape");
      expect(codeOf(() => folder.open(["in", "file-link"], RW))).toBe("path-escape");
      expect(codeOf(() => folder.check(["link", "sub", "g"]))).toBe("path-escape");
      expect(folder.open(["in", "missing"], RW, true)).toBe(-1);
      expect(fs.readdirSync(outside)).toEqual(["f"]);
      expect(fs.readFileSync(path.join(outside, "f"), "utf8")).toBe("outside");
    } finally {
      folder.close();
    }
  });

  test.skipIf(!confinedOpenAvailable())("keeps reaching the same folder when its path is renamed away and replaced while open", () => {
    const { out, outside } = scene();
    const folder = new OutputFolder(out);
    try {
      fs.renameSync(out, `${out}-moved`);
      fs.symlinkSync(outside, out); // the path now leads outside
      const fd = folder.open(["in", "f"], RW);
      fs.writeSync(fd, "INSIDE");
      fs.closeSync(fd);
      expect(fs.readFileSync(path.join(`${out}-moved`, "in", "f"), "utf8")).toBe("INSIDE");
      expect(fs.readFileSync(path.join(outside, "f"), "utf8")).toBe("outside");
    } finally {
      folder.close();
    }
  });

  test.skipIf(!confinedOpenAvailable())("released while idle, it reopens the same folder, and refuses its path once it leads elsewhere", () => {
    const { out, outside } = scene();
    const folder = new OutputFolder(out);
    try {
      folder.release();
      const fd = folder.open(["in", "f"], RW); // the same folder: reopened
      fs.writeSync(fd, "INSIDE");
      fs.closeSync(fd);
      expect(fs.readFileSync(path.join(out, "in", "f"), "utf8")).toBe("INSIDE");
      folder.release();
      fs.renameSync(out, `${out}-moved`);
      fs.mkdirSync(path.join(out, "in"), { recursive: true }); // a look-alike folder at the same path
      expect(codeOf(() => folder.open(["in", "f"], CREATE))).toBe("path-escape");
      fs.rmSync(out, { recursive: true });
      fs.symlinkSync(outside, out); // or a symlink to somewhere else
      expect(codeOf(() => folder.open(["f"], RW))).toBe("path-escape");
      expect(fs.existsSync(path.join(out, "in", "f"))).toBe(false);
      expect(fs.readFileSync(path.join(outside, "f"), "utf8")).toBe("outside");
    } finally {
      folder.close();
    }
  });

  test("the fallback without openat: same refusals, found by lstat before and fstat after each open", () => {
    const { out, outside } = scene();
    const real = fs.realpathSync(out);
    const fd = openChecked(real, ["in", "made", "h"], CREATE);
    fs.closeSync(fd);
    expect(fs.existsSync(path.join(out, "in", "made", "h"))).toBe(true);
    expect(codeOf(() => openChecked(real, ["link", "f"], RW))).toBe("ELOOP");
    expect(codeOf(() => openChecked(real, ["link", "sub", "g"], CREATE))).toBe("ELOOP");
    expect(codeOf(() => openChecked(real, ["in", "file-link"], RW))).toBe("ELOOP");
    expect(codeOf(() => openChecked(real, ["in", "f", "x"], RW))).toBe("ENOTDIR");
    expect(fs.readdirSync(outside)).toEqual(["f"]);
  });
});
