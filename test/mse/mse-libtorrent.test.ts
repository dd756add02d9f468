// MSE/PE against a real libtorrent with its encryption policy forced (out_enc_policy/in_enc_policy =
// forced, allowed_enc_level = rc4): our initiator dials its seeder, and its leecher dials our receiver;
// with encryption disabled, our MSE attempt fails cleanly and the policy's plaintext fallback connects.
// Past the handshake a real PeerConnection runs on the decrypted stream (test/mse/mse-pipe.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { bytesEqual } from "../../shared/bytes.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { MseError, MseInitiator, MseReceiver, nextAttempt, offeredMethods, SkeyTable, type Attempt } from "../../shared/mse/index.ts";
import { decodeHandshake, encodeHandshake } from "../../shared/wire/handshake.ts";
import { decodeMessage } from "../../shared/wire/codec.ts";
import { PeerConnection } from "../../peer/net/peer-connection.ts";
import { dialPeer } from "../../peer/net/sockets.ts";
import { makeRandomFile, makeTempDir, removeDir, sha1File } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { makeTorrent } from "../peer/btpeer-harness.ts";
import { connectionOptions, connectionOver, dialMse, fullBitfield, listenMse, servingHandler, type MseOutcome } from "./mse-pipe.ts";

const PEER_ID = new TextEncoder().encode("-BT0001-msetest00001");

describe.skipIf(!needs(PROGRAMS.libtorrent))("MSE/PE with libtorrent (encryption forced; disabled for the fallback)", () => {
  let dir = "";
  let source = "";
  let torrent = "";
  let meta: Metainfo;
  beforeAll(async () => {
    dir = makeTempDir("btpeer-mse-lt-");
    source = path.join(dir, "seed", "data.bin");
    makeRandomFile(source, 700_000, 21);
    torrent = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: 65536 });
    meta = parseMetainfo(fs.readFileSync(torrent));
  });
  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("we dial a seeder forced to RC4, carry our BitTorrent handshake as IA, and read its handshake back through RC4", async () => {
    const seeder = await startLtPeer({
      mode: "seed",
      torrent,
      dir: path.join(dir, "seed"),
      noTrackers: true,
      encryption: "forced",
      encLevel: "rc4",
      name: "lt seed rc4",
    });
    const ia = encodeHandshake({ reserved: new Uint8Array(8), infoHash: meta.infoHash, peerId: PEER_ID });
    const outcome = await dialMse(seeder.port, new MseInitiator({ infoHash: meta.infoHash, provide: ["rc4"], initialPayload: ia }));
    expect(outcome.result.selected).toBe("rc4");
    let got = new Uint8Array(0);
    const handshake = await new Promise<ReturnType<typeof decodeHandshake>>((resolve) => {
      outcome.attach((chunk) => {
        got = Uint8Array.from([...got, ...chunk]);
        const h = decodeHandshake(got, 0);
        if ("value" in h) resolve(h);
      });
    });
    if (!("value" in handshake)) throw new Error("no handshake");
    expect(bytesEqual(handshake.value.infoHash, meta.infoHash)).toBe(true);
    // What follows the handshake decodes as wire messages too: the seeder's bitfield says it has everything.
    const next = decodeMessage(got, 68, { pieceCount: meta.pieceCount });
    if ("value" in next && next.value.type === "bitfield") expect(next.value.bits.length).toBe(Math.ceil(meta.pieceCount / 8));
    outcome.mse.end();
    await seeder.stop();
  }, 90_000);

  test("a real PeerConnection over our RC4 stream downloads a block from the forced seeder and it matches the file", async () => {
    const seeder = await startLtPeer({
      mode: "seed",
      torrent,
      dir: path.join(dir, "seed"),
      noTrackers: true,
      encryption: "forced",
      encLevel: "rc4",
      name: "lt seed rc4 2",
    });
    const outcome = await dialMse(seeder.port, new MseInitiator({ infoHash: meta.infoHash, provide: ["rc4", "plaintext"] }));
    expect(outcome.result.selected).toBe("rc4");
    const file = fs.readFileSync(source);
    const block = await new Promise<Uint8Array>((resolve, reject) => {
      connectionOver(outcome, connectionOptions(meta, true, seeder.port), {
        onHandshake: () => null,
        onMessage(conn, m) {
          if (m.type === "bitfield" || m.type === "unknown") conn.send({ type: "interested" });
          if (m.type === "unchoke") {
            conn.request(3, 16384, 16384);
            conn.flushRequests();
          }
          if (m.type === "piece") resolve(m.block.slice());
        },
        onDrain: () => {},
        onClose: (_c, reason) => reject(new Error(`closed: ${reason}`)),
      });
    });
    expect(bytesEqual(block, file.subarray(3 * 65536 + 16384, 3 * 65536 + 32768))).toBe(true);
    outcome.mse.end();
    await seeder.stop();
  }, 90_000);

  test("offered both, a libtorrent allowing only plaintext selects plaintext: the handshake is hidden, the payload is not", async () => {
    const seeder = await startLtPeer({
      mode: "seed",
      torrent,
      dir: path.join(dir, "seed"),
      noTrackers: true,
      encryption: "forced",
      encLevel: "plaintext",
      name: "lt seed plaintext",
    });
    const ia = encodeHandshake({ reserved: new Uint8Array(8), infoHash: meta.infoHash, peerId: PEER_ID });
    const outcome = await dialMse(seeder.port, new MseInitiator({ infoHash: meta.infoHash, provide: ["rc4", "plaintext"], initialPayload: ia }));
    expect(outcome.result.selected).toBe("plaintext");
    expect(outcome.result.cipher).toBeNull();
    let got = new Uint8Array(0);
    const infoHash = await new Promise<Uint8Array>((resolve) => {
      outcome.attach((chunk) => {
        got = Uint8Array.from([...got, ...chunk]);
        const h = decodeHandshake(got, 0);
        if ("value" in h) resolve(h.value.infoHash);
      });
    });
    expect(bytesEqual(infoHash, meta.infoHash)).toBe(true);
    outcome.mse.end();
    await seeder.stop();
  }, 90_000);

  test("under 'prefer', a seeder with encryption disabled refuses our MSE handshake with a clean 'closed', and the plaintext attempt the policy gives next works", async () => {
    const seeder = await startLtPeer({
      mode: "seed",
      torrent,
      dir: path.join(dir, "seed"),
      noTrackers: true,
      encryption: "disabled",
      name: "lt seed no encryption",
    });
    const tried: Attempt[] = [];
    const first = nextAttempt("prefer", tried);
    expect(first).toBe("mse");
    tried.push(first!);
    const error = await dialMse(seeder.port, new MseInitiator({ infoHash: meta.infoHash, provide: offeredMethods("prefer") })).then(
      (o) => (o.mse.end(), null),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MseError);
    expect((error as MseError).code).toBe("closed");
    expect(nextAttempt("prefer", tried)).toBe("plaintext");
    const handshake = await new Promise<string>((resolve, reject) => {
      dialPeer(
        { ip: "127.0.0.1", port: seeder.port },
        (socket) =>
          new PeerConnection(socket, connectionOptions(meta, true, seeder.port), {
            onHandshake: (conn, h) => {
              resolve(bytesEqual(h.infoHash, meta.infoHash) ? "ok" : "wrong info hash");
              queueMicrotask(() => conn.close({ code: "local", detail: "test done" }));
              return null;
            },
            onMessage: () => {},
            onDrain: () => {},
            onClose: (_c, reason) => reject(new Error(reason)),
          }),
        (reason) => reject(new Error(reason)),
      );
    });
    expect(handshake).toBe("ok");
    await seeder.stop();
  }, 90_000);

  for (const [level, accept, selected] of [
    ["rc4", ["rc4", "plaintext"], "rc4"],
    ["both", ["plaintext"], "plaintext"],
  ] as const) {
    test(`a leecher forcing MSE (level ${level}) dials us: our receiver finds its torrent among several, selects ${selected}, and it downloads everything from our PeerConnection`, async () => {
      const others = [new Uint8Array(20).fill(1), new Uint8Array(20).fill(2)];
      const skeys = new SkeyTable([...others, meta.infoHash]);
      const results: MseOutcome[] = [];
      const conns: PeerConnection[] = [];
      const failures: string[] = [];
      const server = listenMse(
        () => new MseReceiver({ skeys, accept }),
        (pending) =>
          pending.then(
            (outcome) => {
              results.push(outcome);
              const options = connectionOptions(meta, false, server.port, () => fullBitfield(meta.pieceCount));
              conns.push(connectionOver(outcome, options, servingHandler(meta, source)));
            },
            (error) => failures.push(String(error)),
          ),
        () => failures.push("plaintext connection"),
      );
      const out = path.join(dir, `lt-leech-${selected}`);
      try {
        const leecher = await startLtPeer({
          mode: "download",
          torrent,
          dir: out,
          noTrackers: true,
          peers: [`127.0.0.1:${server.port}`],
          encryption: "forced",
          encLevel: level,
          timeoutS: 60,
          name: `lt leech ${level}`,
        });
        await leecher.finished();
        expect(await sha1File(path.join(out, "data.bin"))).toBe(await sha1File(source));
        expect(results.length).toBeGreaterThan(0);
        expect(results.every((r) => r.result.selected === selected && bytesEqual(r.result.infoHash, meta.infoHash))).toBe(true);
        expect(failures).toEqual([]);
      } finally {
        for (const c of conns) c.close({ code: "local", detail: "test done" });
        server.stop(true);
      }
    }, 120_000);
  }
});
