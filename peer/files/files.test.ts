import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { concatBytes } from "../../shared/bytes.ts";
import { readBuffers, readChunks } from "./read.ts";
import { listSource, SourceError } from "./walk.ts";

let dir = "";
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-files-"));
  fs.mkdirSync(path.join(dir, "tree", "b", "c"), { recursive: true });
  fs.mkdirSync(path.join(dir, "tree", "empty-folder"));
  fs.writeFileSync(path.join(dir, "tree", "b", "c", "deep"), "deep");
  fs.writeFileSync(path.join(dir, "tree", "a"), "a");
  fs.writeFileSync(path.join(dir, "tree", "B"), "upper");
  fs.writeFileSync(path.join(dir, "tree", "b-c"), "");
  fs.symlinkSync("a", path.join(dir, "tree", "link"));
  Bun.spawnSync(["mkfifo", path.join(dir, "tree", "fifo")]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("listing a torrent's source", () => {
  test("lists a folder's regular files in byte order of their path components", () => {
    const source = listSource(path.join(dir, "tree"));
    expect(source.name).toBe("tree");
    expect(source.multiFile).toBe(true);
    expect(source.files.map((f) => [f.path.join("/"), f.length])).toEqual([
      ["B", 5],
      ["a", 1],
      ["b/c/deep", 4],
      ["b-c", 0],
    ]);
  });

  test("reports symbolic links and special files as skipped", () => {
    const skipped = listSource(path.join(dir, "tree")).skipped.map((s) => [path.basename(s.diskPath), s.reason]);
    expect(skipped).toContainEqual(["link", "symbolic link"]);
    if (fs.existsSync(path.join(dir, "tree", "fifo"))) expect(skipped).toContainEqual(["fifo", "not a regular file (socket, pipe or device)"]);
  });

  test("lists a single file under its own name", () => {
    const source = listSource(path.join(dir, "tree", "a"));
    expect(source).toMatchObject({ name: "a", multiFile: false, files: [{ path: ["a"], length: 1 }] });
  });

  test("says when the input does not exist", () => {
    expect(() => listSource(path.join(dir, "nope"))).toThrow(SourceError);
  });
});

describe("reading a file in chunks", () => {
  const collect = async (file: string, length: number, size: number) => {
    const parts: Uint8Array[] = [];
    for await (const chunk of readChunks(file, length, readBuffers(size))) parts.push(chunk.slice());
    return parts;
  };

  test("yields every byte in order through two small reused buffers", async () => {
    const data = crypto.getRandomValues(new Uint8Array(10_000));
    const file = path.join(dir, "data.bin");
    fs.writeFileSync(file, data);
    for (const size of [1, 7, 4096, 10_000, 20_000]) {
      const parts = await collect(file, data.length, size);
      expect(concatBytes(parts)).toEqual(data);
      expect(Math.max(...parts.map((p) => p.length))).toBeLessThanOrEqual(size);
    }
  });

  test("yields one byte more when the file is longer than listed, and fewer when shorter", async () => {
    const file = path.join(dir, "ten.bin");
    fs.writeFileSync(file, new Uint8Array(10));
    expect(concatBytes(await collect(file, 8, 4)).length).toBe(9);
    expect(concatBytes(await collect(file, 12, 4)).length).toBe(10);
  });
});
