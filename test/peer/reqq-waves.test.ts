// A leecher that honours the `reqq` we advertise and asks in waves, as Transmission 3.00 does: once a
// second it tops its requests up to min(its rate × 10 s, our reqq), and not in between. Its download rate
// is then at most reqq × 16 KiB a second, whatever the link: with the 500 we advertised, Transmission got
// 10 MB/s from a btpeer seeder against 31-41 MB/s from libtorrent's (which says 2,000) in bench:clients.
// The leecher is scripted on the shared codec against a real btpeer seeder; a wave stands for a second.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeMessage } from "../../shared/wire/codec.ts";
import { decodeExtensionHandshake } from "../../shared/wire/extension.ts";
import { removeDir } from "../support/files.ts";
import { type Btpeer, startRandomFileSeeder } from "./btpeer-harness.ts";
import { connectScripted, type ScriptedStats, type Wire } from "./hostile-peers.ts";

const BLOCK = 16 * 1024;
const SIZE = 64 * 1024 * 1024;

describe("a leecher that asks for what reqq allows, a wave at a time (Transmission)", () => {
  let dir: string;
  let meta: Metainfo;
  let content: Uint8Array;
  let seeder: Btpeer;

  beforeAll(async () => {
    ({ dir, meta, content, seeder } = await startRandomFileSeeder("reqq-waves-", SIZE, 43));
  }, 60_000);
  afterAll(async () => {
    await seeder?.stop();
    if (dir) removeDir(dir);
  });

  test("64 MiB come in one wave: the seeder's reqq lets a wave carry them all, and every block is served", async () => {
    const total = SIZE / BLOCK;
    const stats: ScriptedStats = { requests: 0, admitted: 0, closed: 0 };
    const got = new Set<number>();
    let wrong = 0;
    let reqq: number | null = null;
    let unchoked = false;
    let next = 0;
    let outstanding = 0;
    let waves = 0;
    let finish!: () => void;
    const allIn = new Promise<void>((resolve) => (finish = resolve));
    // A new wave once the last one is answered: as many requests as reqq allows (Transmission's cap).
    const wave = (wire: Wire) => {
      if (reqq === null || !unchoked || outstanding > 0 || next === total) return;
      waves++;
      const count = Math.min(reqq, total - next);
      const requests = new Uint8Array(count * 17);
      for (let i = 0; i < count; i++, next++) {
        const at = next * BLOCK;
        requests.set(encodeMessage({ type: "request", index: Math.floor(at / meta.pieceLength), begin: at % meta.pieceLength, length: BLOCK }), i * 17);
      }
      outstanding = count;
      wire.sendRaw(requests);
    };
    const connection = connectScripted(
      meta,
      "127.0.0.1",
      seeder.port,
      "waves",
      stats,
      {
        start: (wire) => wire.send({ type: "interested" }),
        message(m, wire) {
          if (m.type === "extended" && m.id === 0) reqq = decodeExtensionHandshake(m.payload).reqq ?? null;
          if (m.type === "unchoke") unchoked = true;
          if (m.type === "piece") {
            const at = m.index * meta.pieceLength + m.begin;
            if (!equal(m.block, content.subarray(at, at + m.block.length))) wrong++;
            got.add(at / BLOCK);
            outstanding--;
            if (got.size === total) {
              finish();
              wire.close();
              return;
            }
          }
          wave(wire);
        },
      },
      // Transmission's own BEP 10 handshake (reqq 512), no fast extension, nothing to offer.
      { reqq: 512, bitfield: new Uint8Array(Math.ceil(meta.pieceCount / 8)) },
    );
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, 60_000)); // a safety deadline only
    await Promise.race([allIn, deadline]);
    await Promise.race([connection, Bun.sleep(1000)]);
    expect(got.size).toBe(total);
    expect(wrong).toBe(0);
    // With reqq 500 this took 9 waves: 8 MiB a second for Transmission.
    expect(waves).toBe(1);
  }, 90_000);
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
