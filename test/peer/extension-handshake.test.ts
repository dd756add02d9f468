// The extension protocol (BEP 10) as typed values: the shared codec reads what real clients send, ignores
// what it does not know by name, refuses a payload that is not a dictionary; a PeerConnection learns a
// real libtorrent peer's extensions, client and reqq from its handshake.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { ConnectionHandler } from "../../peer/net/connection-types.ts";
import { encode } from "../../shared/bencode.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { decodeMessage, encodeMessage } from "../../shared/wire/codec.ts";
import { decodeExtensionHandshake, encodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { WireError } from "../../shared/wire/errors.ts";
import { makeRandomFile, makeTempDir, removeDir } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { makeTorrent } from "./btpeer-harness.ts";
import { dialLeecher } from "./dial-leecher.ts";
import { errorCode } from "../support/error-code.ts";

const codeOf = (fn: () => unknown) => errorCode(WireError, fn);

describe("extension handshake codec", () => {
  test("reads extensions by name, port, client, reqq, addresses and metadata size", () => {
    const payload = encode({
      m: { ut_metadata: 3, ut_pex: 1, lt_donthave: 7 },
      p: 6881,
      v: "qBittorrent/5.0.0",
      reqq: 250,
      yourip: new Uint8Array([127, 0, 0, 1]),
      ipv6: new Uint8Array(16).fill(1),
      metadata_size: 31_337,
    });
    const h = decodeExtensionHandshake(payload);
    expect([...h.m]).toEqual([
      ["lt_donthave", 7],
      ["ut_metadata", 3],
      ["ut_pex", 1],
    ]);
    expect(h).toMatchObject({ port: 6881, client: "qBittorrent/5.0.0", reqq: 250, metadataSize: 31_337 });
    expect(h.yourIp).toEqual(new Uint8Array([127, 0, 0, 1]));
    expect(h.ipv6).toEqual(new Uint8Array(16).fill(1));
  });

  test("an id of 0 turns an extension off; ids out of 1..255 and fields of the wrong type are ignored, not guessed at", () => {
    const h = decodeExtensionHandshake(encode({ m: { ut_pex: 0, ut_metadata: 300, odd: "x", ok: 2 }, p: 70_000, reqq: -1, v: 5, yourip: new Uint8Array(3) }));
    expect([...h.m]).toEqual([["ok", 2]]);
    expect(h.disabled).toEqual(["ut_pex"]);
    expect(h.port).toBeUndefined();
    expect(h.reqq).toBeUndefined();
    expect(h.client).toBeUndefined();
    expect(h.yourIp).toBeUndefined();
  });

  test("a payload that is not a bencoded dictionary is a bad-extension protocol error", () => {
    expect(codeOf(() => decodeExtensionHandshake(encode([1, 2])))).toBe("bad-extension");
    expect(codeOf(() => decodeExtensionHandshake(new TextEncoder().encode("d1:md")))).toBe("bad-extension");
    expect(codeOf(() => decodeExtensionHandshake(new Uint8Array()))).toBe("bad-extension");
  });

  test("what we encode decodes to the same value", () => {
    const h = { m: new Map([["ut_metadata", 2]]), disabled: ["ut_pex"], port: 51413, client: "btpeer 0.1.0", reqq: 500, metadataSize: 1234 };
    expect(decodeExtensionHandshake(encodeExtensionHandshake(h))).toEqual(h);
  });

  test("an extended message frames its extended id apart from the payload; one without an id is refused", () => {
    const bytes = encodeMessage({ type: "extended", id: 3, payload: new Uint8Array([9, 8]) });
    expect(bytes).toEqual(new Uint8Array([0, 0, 0, 4, 20, 3, 9, 8]));
    const decoded = decodeMessage(bytes, 0, { pieceCount: 1 });
    expect(decoded).toEqual({ value: { type: "extended", id: 3, payload: new Uint8Array([9, 8]) }, size: 8 });
    expect(codeOf(() => decodeMessage(new Uint8Array([0, 0, 0, 1, 20]), 0, { pieceCount: 1 }))).toBe("bad-length");
  });
});

describe.skipIf(!needs(PROGRAMS.libtorrent))("extension handshake with libtorrent", () => {
  let dir = "";
  beforeAll(() => {
    dir = makeTempDir("btpeer-ext-");
  });
  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("a connection to a libtorrent seeder learns its extensions by name, its client, reqq and the metadata size", async () => {
    const source = path.join(dir, "seed", "data.bin");
    makeRandomFile(source, 300_000, 9);
    const torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 65536 });
    const meta = parseMetainfo(fs.readFileSync(torrent));
    const seeder = await startLtPeer({ mode: "seed", torrent, dir: path.join(dir, "seed"), noTrackers: true });

    let opened!: () => void;
    const ready = new Promise<void>((r) => (opened = r));
    let closed = "";
    const handler: ConnectionHandler = {
      onHandshake: () => null,
      onMessage: (conn, m) => {
        if (m.type === "extended" && conn.peerExtensions) opened();
      },
      onDrain: () => {},
      onClose: (_conn, reason) => {
        closed = reason;
        opened();
      },
    };
    const dialed = dialLeecher(meta, seeder.port, "-BT0001-exthandshake", handler, (reason) => {
      closed = reason;
      opened();
    });
    await ready;
    expect(closed).toBe("");
    const ext = dialed.conn!.peerExtensions!;
    expect(ext.m.has("ut_metadata")).toBe(true);
    expect(ext.m.has("ut_pex")).toBe(true);
    expect(ext.client).toMatch(/libtorrent|Deluge|\d/i);
    expect(ext.reqq).toBeGreaterThan(0);
    expect(ext.metadataSize).toBe(meta.infoBytes.length);
    dialed.conn!.close({ code: "local", detail: "test done" });
  }, 60_000);
});
