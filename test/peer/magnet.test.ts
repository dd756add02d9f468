// `btpeer download <magnet>` between real btpeer processes: the metadata (an info dictionary of several
// 16 KiB pieces) comes from seeders found through the link's x.pe, --peer or its tr= tracker, in hex or
// base32 form; it is checked, saved with --save-torrent, and the same process then downloads the data.
// A btpeer seeder also serves its metadata to a bare connection that speaks only the shared codec.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ConnectionHandler } from "../../peer/net/connection-types.ts";
import { toHex } from "../../shared/bytes.ts";
import { formatMagnet, toBase32 } from "../../shared/magnet.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import { decodeMetadataMessage, encodeMetadataMessage, metadataPieceCount, METADATA_PIECE, UT_METADATA } from "../../shared/wire/ut-metadata.ts";
import { removeDir } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer, startTracker, type Btpeer } from "./btpeer-harness.ts";
import { expectSameTree, makeManyFiles, seedFixture } from "../support/seed-fixture.ts";
import { dialLeecher } from "./dial-leecher.ts";

let dir = "";
let source = "";
let torrent = "";
let meta: Metainfo;

beforeAll(async () => {
  ({ dir, source, torrent, meta } = await seedFixture("btpeer-magnet-", "many", 32768, (folder) =>
    makeManyFiles(folder, 500, (i) => 2000 + i * 7, { size: 1_500_000, seed: 999 }),
  ));
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

const expectDownloaded = (out: string) => expectSameTree(path.join(out, "many"), source);

describe("btpeer download <magnet>", () => {
  test("hex link with x.pe and --peer: metadata from two btpeer seeders, checked, saved, then the data from the same peers", async () => {
    expect(metadataPieceCount(meta.infoBytes.length)).toBeGreaterThan(2);
    const seeders: Btpeer[] = [];
    for (const name of ["seeder A", "seeder B"]) seeders.push(await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name }));
    const out = path.join(dir, "out-hex");
    const saved = path.join(dir, "saved.torrent");
    const link = formatMagnet({ infoHash: meta.infoHash, name: "many", trackers: ["http://127.0.0.1:1/announce"], peers: [seeders[0]!.address] });
    const leecher = await startBtpeer(["download", link, "--out", out, "--no-seed", "--peer", seeders[1]!.address, "--save-torrent", saved], {
      name: "magnet leecher",
      readyEvent: "magnet",
    });
    const done = await leecher.waitFor((e) => e.event === "metadata" && e.done === true);
    expect(done.total).toBe(metadataPieceCount(meta.infoBytes.length));
    const started = await leecher.waitFor(isEvent("started"));
    expect(started.infoHash).toBe(toHex(meta.infoHash));
    expect(started.port).toBe(leecher.port); // the same client goes on
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    const file = parseMetainfo(new Uint8Array(fs.readFileSync(saved)));
    expect(toHex(file.infoHash)).toBe(toHex(meta.infoHash));
    expect(file.infoBytes).toEqual(meta.infoBytes);
    expect(file.announceList).toEqual([["http://127.0.0.1:1/announce"]]);
    for (const s of seeders) await s.stop();
  }, 120_000);

  test("base32 link whose only source is its tr= tracker: peers from the announce, metadata, then the data", async () => {
    const tracker = await startTracker();
    const withTracker = await makeTorrent(source, path.join(dir, "tracked.torrent"), { pieceLength: 32768, trackers: [tracker.announce] });
    const tracked = parseMetainfo(new Uint8Array(fs.readFileSync(withTracker)));
    const seeder = await startBtpeer(["seed", withTracker, "--dir", path.dirname(source)], { name: "tracked seeder" });
    await seeder.waitFor(isEvent("tracker"));
    const link = `magnet:?xt=urn:btih:${toBase32(tracked.infoHash)}&tr=${encodeURIComponent(tracker.announce)}`;
    const out = path.join(dir, "out-b32");
    const leecher = await startBtpeer(["download", link, "--out", out, "--no-seed"], { name: "base32 leecher", readyEvent: "magnet" });
    await leecher.waitFor((e) => e.event === "metadata" && e.done === true);
    await leecher.waitFor(isEvent("completed"));
    expect(await leecher.service.exited).toBe(0);
    await expectDownloaded(out);
    await seeder.stop();
    await tracker.stop();
  }, 120_000);

  test("a magnet link that is not one is refused with exit code 3 before anything starts", () => {
    const r = Bun.spawnSync([process.execPath, path.join(import.meta.dir, "../../peer/cli.ts"), "download", "magnet:?xt=urn:btih:123", "--out", dir], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr.toString()).toContain("not an info hash");
  });
});

describe("btpeer serves its metadata", () => {
  test("a seeder announces metadata_size in its first extension handshake, answers each piece, rejects one out of range", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "metadata server" });
    const OUR_ID = 9;
    const pieces = new Map<number, Uint8Array>();
    const rejected: number[] = [];
    let handshakes = 0;
    let size = 0;
    let finish!: (why: string) => void;
    const done = new Promise<string>((r) => (finish = r));
    const count = metadataPieceCount(meta.infoBytes.length);
    const handler: ConnectionHandler = {
      onHandshake: () => null,
      onMessage: (conn, m) => {
        if (m.type !== "extended") return;
        if (m.id === EXTENSION_HANDSHAKE_ID) {
          if (++handshakes > 1) return;
          const theirs = conn.peerExtensions?.m.get(UT_METADATA);
          size = conn.peerExtensions?.metadataSize ?? 0;
          if (theirs === undefined || size === 0) return finish("no ut_metadata or metadata_size in the first handshake");
          for (let piece = 0; piece <= count; piece++) conn.send({ type: "extended", id: theirs, payload: encodeMetadataMessage({ kind: "request", piece }) });
          return;
        }
        if (m.id !== OUR_ID) return;
        const message = decodeMetadataMessage(m.payload);
        if (message.kind === "data") pieces.set(message.piece, message.data.slice());
        if (message.kind === "reject") rejected.push(message.piece);
        if (pieces.size + rejected.length === count + 1) finish("answered");
      },
      onDrain: () => {},
      onClose: (_conn, reason) => finish(`closed: ${reason}`),
    };
    const dialed = dialLeecher(meta, seeder.port, "-BT0001-metaclient", handler, (reason) => finish(`dial failed: ${reason}`), {
      m: new Map([[UT_METADATA, OUR_ID]]),
    });
    expect(await done).toBe("answered");
    expect(rejected).toEqual([count]);
    const whole = new Uint8Array(size);
    for (const [piece, bytes] of pieces) whole.set(bytes, piece * METADATA_PIECE);
    expect(createHash("sha1").update(whole).digest("hex")).toBe(toHex(meta.infoHash));
    dialed.conn?.close({ code: "local", detail: "test done" });
    await seeder.stop();
  }, 60_000);
});
