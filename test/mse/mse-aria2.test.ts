// MSE/PE against a real aria2c that requires encryption (--bt-require-crypto=true, RC4 minimum): it
// downloads a whole torrent from our receiver (it finds us through our tracker; with default settings
// too, since aria2c opens every connection with MSE), and our initiator
// downloads a block from it seeding. Past the handshake a real PeerConnection runs on the stream.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { bytesEqual } from "../../shared/bytes.ts";
import { percentEncodeBytes } from "../../shared/ids.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { MseError, MseInitiator, MseReceiver, SkeyTable } from "../../shared/mse/index.ts";
import type { PeerConnection } from "../../peer/net/peer-connection.ts";
import { startAria2 } from "../support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha1File } from "../support/files.ts";
import { freePort } from "../support/ports.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { makeTorrent, startTracker, type Tracker } from "../peer/btpeer-harness.ts";
import { connectionOptions, connectionOver, dialMse, fullBitfield, listenMse, servingHandler, type MseOutcome } from "./mse-pipe.ts";

describe.skipIf(!needs(PROGRAMS.aria2))("MSE/PE with aria2c requiring encryption", () => {
  let dir = "";
  let source = "";
  let torrent = "";
  let meta: Metainfo;
  let tracker: Tracker;
  beforeAll(async () => {
    dir = makeTempDir("btpeer-mse-aria2-");
    tracker = await startTracker();
    source = path.join(dir, "seed", "album.bin");
    makeRandomFile(source, 900_000, 33);
    torrent = await makeTorrent(source, path.join(dir, "album.torrent"), { pieceLength: 65536, trackers: [tracker.announce] });
    meta = parseMetainfo(fs.readFileSync(torrent));
  }, 60_000);
  afterAll(async () => {
    await stopAllServices();
    await tracker?.stop();
    removeDir(dir);
  }, 30_000);

  for (const requireCrypto of [true, false]) {
    test(`aria2c (${requireCrypto ? "--bt-require-crypto" : "default settings"}) opens with MSE and downloads the whole torrent from our receiver over RC4`, async () => {
      const results: MseOutcome[] = [];
      const conns: PeerConnection[] = [];
      const failures: string[] = [];
      const skeys = new SkeyTable([meta.infoHash]);
      const server = listenMse(
        () => new MseReceiver({ skeys, accept: ["rc4", "plaintext"] }),
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
      try {
        // Registered with the tracker as a seeder, so aria2c's announce names us.
        const query = `info_hash=${percentEncodeBytes(meta.infoHash)}&peer_id=-BT0001-mseseed0000${requireCrypto ? 1 : 2}&port=${server.port}&uploaded=0&downloaded=0&left=0&event=started&compact=1`;
        expect((await fetch(`${tracker.announce}?${query}`)).status).toBe(200);
        const out = path.join(dir, `aria2-leech-${requireCrypto}`);
        const aria2 = await startAria2({ torrent, dir: out, requireCrypto, stallTimeoutS: 60, name: `aria2c require-crypto=${requireCrypto}` });
        await aria2.done();
        expect(await sha1File(path.join(out, "album.bin"))).toBe(await sha1File(source));
        expect(results.length).toBeGreaterThan(0);
        expect(results.every((r) => r.result.selected === "rc4")).toBe(true);
        expect(failures).toEqual([]);
      } finally {
        for (const c of conns) c.close({ code: "local", detail: "test done" });
        server.stop(true);
      }
    }, 120_000);
  }

  test("we dial aria2c seeding with encryption required and download a block over RC4", async () => {
    const port = freePort();
    const seedDir = path.join(dir, "seed");
    const aria2 = await startAria2({ torrent, dir: seedDir, port, seedTimeMin: 5, requireCrypto: true, name: "aria2c seed require-crypto" });
    try {
      // aria2c checks its data before it listens: dial until it answers (bounded).
      let outcome: MseOutcome | null = null;
      for (let attempt = 0; attempt < 60 && !outcome; attempt++) {
        try {
          outcome = await dialMse(port, new MseInitiator({ infoHash: meta.infoHash, provide: ["rc4"] }));
        } catch (error) {
          if (error instanceof MseError && error.code !== "closed") throw error;
          await Bun.sleep(500);
        }
      }
      if (!outcome) throw new Error(`aria2c never accepted an MSE connection\n${aria2.service.output()}`);
      expect(outcome.result.selected).toBe("rc4");
      const file = fs.readFileSync(source);
      const block = await new Promise<Uint8Array>((resolve, reject) => {
        connectionOver(outcome!, connectionOptions(meta, true, port), {
          onHandshake: () => null,
          onMessage(conn, m) {
            if (m.type === "bitfield") conn.send({ type: "interested" });
            if (m.type === "unchoke") {
              conn.request(5, 0, 16384);
              conn.flushRequests();
            }
            if (m.type === "piece") resolve(m.block.slice());
          },
          onDrain: () => {},
          onClose: (_c, reason) => reject(new Error(`closed: ${reason}`)),
        });
      });
      expect(bytesEqual(block, file.subarray(5 * 65536, 5 * 65536 + 16384))).toBe(true);
      outcome.mse.end();
    } finally {
      await aria2.stop();
    }
  }, 120_000);
});
