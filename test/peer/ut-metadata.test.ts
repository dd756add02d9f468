// ut_metadata (BEP 9) as a codec: messages round-trip, malformed ones are bad-extension protocol errors,
// an absurd total size is refused; and against a real libtorrent seeder, a connection that speaks only
// this codec fetches the whole info dictionary, whose SHA-1 is the torrent's info hash.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ConnectionHandler } from "../../peer/net/connection-types.ts";
import { encode } from "../../shared/bencode.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { WireError } from "../../shared/wire/errors.ts";
import { EXTENSION_HANDSHAKE_ID } from "../../shared/wire/extension.ts";
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  MAX_METADATA_SIZE,
  METADATA_PIECE,
  metadataPieceCount,
  metadataPieceLength,
  UT_METADATA,
} from "../../shared/wire/ut-metadata.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { makeTorrent } from "./btpeer-harness.ts";
import { dialLeecher } from "./dial-leecher.ts";
import { errorCode } from "../support/error-code.ts";

const codeOf = (fn: () => unknown) => errorCode(WireError, fn);

describe("ut_metadata codec", () => {
  test("request, data and reject round-trip; data carries its piece's bytes after the dictionary", () => {
    const data = new Uint8Array(100).fill(7);
    for (const m of [
      { kind: "request", piece: 3 },
      { kind: "reject", piece: 0 },
      { kind: "data", piece: 1, totalSize: METADATA_PIECE + 100, data },
    ] as const) {
      expect(decodeMetadataMessage(encodeMetadataMessage(m))).toEqual(m);
    }
    const bytes = encodeMetadataMessage({ kind: "data", piece: 1, totalSize: METADATA_PIECE + 100, data });
    expect(new TextDecoder().decode(bytes.subarray(0, bytes.length - 100))).toBe("d8:msg_typei1e5:piecei1e10:total_sizei16484ee");
  });

  test("piece geometry: 16 KiB pieces, the last one shorter", () => {
    expect(metadataPieceCount(1)).toBe(1);
    expect(metadataPieceCount(METADATA_PIECE)).toBe(1);
    expect(metadataPieceCount(METADATA_PIECE + 1)).toBe(2);
    expect(metadataPieceLength(METADATA_PIECE + 1, 1)).toBe(1);
  });

  test("malformed messages are bad-extension errors: unknown type, missing piece, wrong data length, absurd size, trailing bytes", () => {
    const cases = [
      encode({ msg_type: 9, piece: 0 }),
      encode({ msg_type: 0 }),
      encode({ msg_type: 0, piece: -1 }),
      encode({ msg_type: 1, piece: 0, total_size: 10 }), // no data follows
      new Uint8Array([...encode({ msg_type: 1, piece: 0, total_size: 10 }), ...new Uint8Array(11)]),
      new Uint8Array([...encode({ msg_type: 1, piece: 0, total_size: MAX_METADATA_SIZE + 1 }), ...new Uint8Array(METADATA_PIECE)]),
      new Uint8Array([...encode({ msg_type: 1, piece: 2, total_size: 10 }), ...new Uint8Array(10)]),
      new Uint8Array([...encode({ msg_type: 0, piece: 0 }), 1]),
      encode([1]),
      new TextEncoder().encode("d8:msg_typei0e"),
    ];
    for (const payload of cases) expect(codeOf(() => decodeMetadataMessage(payload))).toBe("bad-extension");
  });
});

describe.skipIf(!needs(PROGRAMS.libtorrent))("ut_metadata with libtorrent", () => {
  let dir = "";
  beforeAll(() => {
    dir = makeTempDir("btpeer-utmeta-");
  });
  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("every piece of the info dictionary fetched from a libtorrent seeder hashes to the info hash", async () => {
    // Many small files make an info dictionary of several 16 KiB metadata pieces.
    const source = path.join(dir, "seed", "many");
    for (let i = 0; i < 600; i++) makeRandomFile(path.join(source, `file-with-a-long-name-${String(i).padStart(4, "0")}.bin`), 1000 + i, i);
    const torrent = await makeTorrent(source, path.join(dir, "many.torrent"), { pieceLength: 16384 });
    const meta = parseMetainfo(fs.readFileSync(torrent));
    expect(metadataPieceCount(meta.infoBytes.length)).toBeGreaterThan(2);
    const seeder = await startLtPeer({ mode: "seed", torrent, dir: path.join(dir, "seed"), noTrackers: true });

    const OUR_ID_FOR_METADATA = 7;
    const pieces = new Map<number, Uint8Array>();
    let totalSize = 0;
    let finish!: (reason: string) => void;
    const done = new Promise<string>((r) => (finish = r));
    const handler: ConnectionHandler = {
      onHandshake: () => null,
      onMessage: (conn, m) => {
        if (m.type !== "extended") return;
        if (m.id === EXTENSION_HANDSHAKE_ID) {
          const theirs = conn.peerExtensions?.m.get(UT_METADATA);
          const size = conn.peerExtensions?.metadataSize;
          if (theirs === undefined || size === undefined) return finish("no ut_metadata in the handshake");
          totalSize = size;
          for (let piece = 0; piece < metadataPieceCount(size); piece++) {
            conn.send({ type: "extended", id: theirs, payload: encodeMetadataMessage({ kind: "request", piece }) });
          }
          return;
        }
        if (m.id !== OUR_ID_FOR_METADATA) return;
        const message = decodeMetadataMessage(m.payload);
        if (message.kind !== "data") return finish(`got ${message.kind} for piece ${message.piece}`);
        pieces.set(message.piece, message.data.slice());
        if (pieces.size === metadataPieceCount(totalSize)) finish("complete");
      },
      onDrain: () => {},
      onClose: (_conn, reason) => finish(`closed: ${reason}`),
    };
    const dialed = dialLeecher(meta, seeder.port, "-BT0001-utmetadata", handler, (reason) => finish(`dial failed: ${reason}`), {
      m: new Map([[UT_METADATA, OUR_ID_FOR_METADATA]]),
    });
    expect(await done).toBe("complete");
    const whole = new Uint8Array(totalSize);
    for (const [piece, bytes] of pieces) whole.set(bytes, piece * METADATA_PIECE);
    expect(createHash("sha1").update(whole).digest("hex")).toBe(Buffer.from(meta.infoHash).toString("hex"));
    dialed.conn?.close({ code: "local", detail: "test done" });
  }, 120_000);
});
