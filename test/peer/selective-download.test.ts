// Selective download (per-file priorities) against a real btpeer seeder: a skipped file is never created
// and the pieces lying wholly in it are never asked for (the seeder's own upload counter says exactly how
// much it sent); the pieces it shares with wanted files are fetched whole, the skipped share kept in the
// parts file, so a restart finds them verified; and un-skipping at run time fetches the rest.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { pieceSize, type Metainfo } from "../../shared/metainfo/types.ts";
import { toHex } from "../../shared/bytes.ts";
import { Client } from "../../peer/client/client.ts";
import { piecePriorities, type FilePriority } from "../../peer/pieces/wanted.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import type { TorrentEvent } from "../../peer/torrent/events.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { CLI, isEvent, makeTorrent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";

const PIECE = 64 * 1024;
// b.bin starts inside piece 4 and ends inside piece 12: pieces 5..11 are its alone, 4 and 12 are shared.
const SIZES = { "a.bin": 300_000, "b.bin": 500_000, "c.bin": 200_000 };

let dir = "";
let torrent = "";
let meta: Metainfo;
let seeder: Btpeer;
const src = () => path.join(dir, "src", "album");

beforeAll(async () => {
  dir = makeTempDir("btpeer-selective-");
  let seed = 21;
  for (const [name, size] of Object.entries(SIZES)) makeRandomFile(path.join(src(), name), size, seed++);
  torrent = await makeTorrent(src(), path.join(dir, "album.torrent"), { pieceLength: PIECE });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrent)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(src())], { name: "seeder" });
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** The bytes of the pieces wanted when `priorities` apply, worked out from the file sizes alone. */
function wantedBytes(skippedFile: number): { pieces: number; bytes: number } {
  const files = meta.files;
  const start = files[skippedFile]!.offset;
  const end = start + files[skippedFile]!.length;
  let pieces = 0;
  let bytes = 0;
  for (let i = 0; i < meta.pieceCount; i++) {
    const a = i * PIECE;
    const b = a + pieceSize(meta, i);
    if (start <= a && b <= end) continue; // wholly in the skipped file
    pieces++;
    bytes += b - a;
  }
  return { pieces, bytes };
}

/** The seeder's `uploaded` once it has no peer left (its progress event, once a second). */
async function seederUploadedWhenIdle(after: number): Promise<number> {
  const e = await seeder.waitFor((e) => e.event === "progress" && e.peers === 0 && Number(e.uploaded) > after, 30_000);
  return Number(e.uploaded);
}

describe("selective download", () => {
  test("--skip 1: the file is not created, only the pieces touching wanted files are sent, and a restart finds them all", async () => {
    const out = path.join(dir, "skip");
    const { pieces, bytes } = wantedBytes(1);
    expect(pieces).toBe(meta.pieceCount - 7);
    const before = Number(seeder.last("progress")?.uploaded ?? 0);
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--skip", "1", "--no-seed", "--peer", seeder.address], { name: "leecher" });
    const done = await leecher.waitFor(isEvent("completed"), 60_000);
    expect(await leecher.service.exited).toBe(0);
    expect(done.have).toBe(pieces);
    expect(done.wantedPieces).toBe(pieces);
    expect(done.downloaded).toBe(bytes);
    // What the seeder sent, counted on its side: exactly the wanted pieces, none lying wholly in b.bin.
    expect((await seederUploadedWhenIdle(before)) - before).toBe(bytes);

    expect(fs.existsSync(path.join(out, "album", "b.bin"))).toBe(false);
    for (const name of ["a.bin", "c.bin"]) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(src(), name)));
    // b.bin's share of the two boundary pieces is in the parts file, and nowhere else.
    expect(fs.readdirSync(out).sort()).toEqual([`.${toHex(meta.infoHash)}.parts`, "album"]);

    // A second run finds every wanted piece verified (the boundary ones read back from the parts file).
    const again = await startBtpeer(["download", torrent, "--out", out, "--skip", "1", "--no-seed", "--peer", seeder.address], { name: "second run" });
    const started = again.events().find(isEvent("started"))!;
    expect(started.resumedPieces).toBe(pieces);
    expect(started.seeding).toBe(true);
    const second = await again.waitFor(isEvent("completed"), 30_000);
    expect(second.fetchedPieces).toBe(0);
    expect(await again.service.exited).toBe(0);
  }, 120_000);

  test("--only takes file indices as btpeer info lists them", () => {
    const r = Bun.spawnSync([process.execPath, CLI, "info", torrent], { stdout: "pipe", stderr: "pipe" });
    const lines = r.stdout.toString().split("\n");
    for (const [i, name] of Object.keys(SIZES).entries()) expect(lines.some((l) => new RegExp(`^\\s+${i}\\s.*album/${name}$`).test(l))).toBe(true);
    const bad = Bun.spawnSync([process.execPath, CLI, "download", torrent, "--out", path.join(dir, "bad"), "--only", "3"], { stdout: "pipe", stderr: "pipe" });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("files 0 to 2");
    expect(fs.existsSync(path.join(dir, "bad", "album"))).toBe(false);
  });

  test("un-skipping a file at run time fetches it; the boundary pieces' share comes from the parts file", async () => {
    const out = path.join(dir, "unskip");
    const priorities: FilePriority[] = ["normal", "skip", "normal"];
    const storage = TorrentStorage.open(meta, out, { skipped: priorities.map((p) => p === "skip") });
    const have = await verifyExisting(meta, out, { skip: (i) => !storage.mayHoldData(i) });
    const client = new Client({ port: 0, bind: "127.0.0.1" });
    client.start();
    const events: TorrentEvent[] = [];
    const completions: (() => void)[] = [];
    const torrent = client.addTorrent({
      meta,
      storage,
      have,
      dir: out,
      poolBytes: 4 << 20,
      maxPeers: 10,
      peers: [{ ip: "127.0.0.1", port: seeder.port }],
      seed: true,
      filePriorities: priorities,
      onEvent: (e) => {
        events.push(e);
        if (e.event === "completed") completions.shift()?.();
      },
    });
    try {
      const first = new Promise<void>((resolve) => completions.push(resolve));
      torrent.start();
      await first;
      expect(torrent.state).toBe("seeding");
      expect(fs.existsSync(path.join(out, "album", "b.bin"))).toBe(false);
      const wantedFirst = piecePriorities(meta, priorities).filter((p) => p > 0).length;
      expect(have.count()).toBe(wantedFirst);

      const second = new Promise<void>((resolve) => completions.push(resolve));
      torrent.setFilePriorities(["normal", "normal", "normal"]);
      expect(torrent.state).toBe("downloading");
      await second;
      expect(torrent.state).toBe("seeding");
      expect(have.isComplete()).toBe(true);
      const fetched = events.filter((e) => e.event === "completed").map((e) => (e as { fetchedPieces: number }).fetchedPieces);
      // The second round fetched only the 7 pieces lying wholly in b.bin: the boundary ones were kept.
      expect(fetched).toEqual([wantedFirst, meta.pieceCount]);
    } finally {
      await client.stop();
    }
    for (const name of Object.keys(SIZES)) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(src(), name)));
  }, 120_000);
});
