// A .torrent with a key twice means two things: libtorrent and Transmission keep the first copy, a parser
// that keeps the last sees another torrent (another info hash, other files). btpeer refuses such files
// with one clear line, through the real `btpeer info` and `btpeer download`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { encode } from "../shared/bencode.ts";
import { runBtpeer } from "./support/btpeer.ts";

let work = "";
const enc = new TextEncoder();

/** Two valid info dictionaries with different names and data: which one counts matters. */
const infoA = encode({ name: "first.bin", "piece length": 16384, length: 1000, pieces: new Uint8Array(20) });
const infoB = encode({ name: "second.bin", "piece length": 16384, length: 2000, pieces: new Uint8Array(20).fill(7) });

/** A dictionary written entry by entry, in the given order, keys possibly repeated (encode cannot do that). */
function rawDict(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [enc.encode("d")];
  for (const [key, value] of entries) parts.push(enc.encode(`${enc.encode(key).length}:${key}`), value);
  parts.push(enc.encode("e"));
  return Buffer.concat(parts);
}

const announce = encode("http://127.0.0.1:9/announce");

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, bytes);
  return file;
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "btswarm-dupkeys-"));
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function oneLine(text: string): string[] {
  return text.trim().split("\n");
}

describe("a torrent with a duplicate key", () => {
  test("btpeer info refuses two `info` dictionaries with one line and exit code 1", async () => {
    const file = write(
      "two-infos.torrent",
      rawDict([
        ["announce", announce],
        ["info", infoA],
        ["info", infoB],
      ]),
    );
    const r = await runBtpeer(["info", file]);
    expect(r.exitCode).toBe(1);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('duplicate dictionary key "info"');
    expect(r.stdout).toBe("");
  });

  test("btpeer info --json refuses a key twice inside `info` (same bytes hashed, two meanings)", async () => {
    const info = rawDict([
      ["length", encode(1000)],
      ["name", encode("a.bin")],
      ["name", encode("b.bin")],
      ["piece length", encode(16384)],
      ["pieces", encode(new Uint8Array(20))],
    ]);
    const file = write(
      "two-names.torrent",
      rawDict([
        ["announce", announce],
        ["info", info],
      ]),
    );
    const r = await runBtpeer(["info", "--json", file]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr + r.stdout).toContain('duplicate dictionary key "name"');
  });

  test("btpeer download refuses it with exit code 3 and writes nothing", async () => {
    // The twins are far apart, with unsorted keys between them: found all the same.
    const file = write(
      "far-twins.torrent",
      rawDict([
        ["info", infoA],
        ["comment", encode("x")],
        ["announce", announce],
        ["info", infoB],
      ]),
    );
    const out = path.join(work, "out");
    const r = Bun.spawnSync([process.execPath, path.resolve(import.meta.dir, "../peer/cli.ts"), "download", file, "--out", out, "--port", "0", "--no-seed"], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    expect(r.exitCode).toBe(3);
    expect(oneLine(r.stderr.toString())).toHaveLength(1);
    expect(r.stderr.toString()).toContain('duplicate dictionary key "info"');
    expect(fs.existsSync(out)).toBe(false);
  });

  test("unsorted keys without duplicates still load (many real torrents have them)", async () => {
    const file = write(
      "unsorted.torrent",
      rawDict([
        ["info", infoA],
        ["announce", announce],
      ]),
    );
    const r = await runBtpeer(["info", "--json", file]);
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }).name).toBe("first.bin");
  });
});
