// Fuzz: the ut_pex (BEP 11) handling path of a real btpeer seeder, over loopback TCP. Each case is a
// connection that handshakes, names ut_pex in its extension handshake and sends one mutated ut_pex message
// to the seeder's id. The seeder must stay up and answer with valid wire protocol; what it learns stays
// within its caps; afterwards a real leecher still downloads the whole torrent from it. Mutations that
// would name an address off loopback are not sent (the seeder would dial it): the test's traffic stays on
// loopback, and the seeder also dials from 127.0.0.1 alone (--bind).
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { encode } from "../../shared/bencode.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage, WireError } from "../../shared/wire/codec.ts";
import { decodePexMessage, encodePexMessage, UT_PEX } from "../../shared/wire/ut-pex.ts";
import { MessageReader } from "../../peer/net/message-reader.ts";
import { makeRandomFile, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, startBtpeer, type Btpeer } from "../peer/btpeer-harness.ts";
import { BENCODE_TOKENS } from "./corpus.ts";
import { concat, fuzzSettings, fuzzTimeout, Mutator, Rng, runFuzz } from "./fuzz-kit.ts";
import { tcpExchange } from "../support/tcp-exchange.ts";
import { seedFixture } from "../support/seed-fixture.ts";

// Each case is a TCP connection to a real process: a fiftieth of the count the in-process targets run.
const base = fuzzSettings(2500);
const settings = { ...base, cases: Math.max(1, Math.floor(base.cases / 50)) };
/** The seeder's ut_pex id (extension-handshake.ts): fixed, so a case needs no round trip. */
const SEEDER_PEX_ID = 1;

let dir = "";
let torrent = "";
let meta: Metainfo;
let seeder: Btpeer;

beforeAll(async () => {
  ({ dir, torrent, meta } = await seedFixture("btpeer-pex-fuzz-", "data.bin", 32 * 1024, (file) => makeRandomFile(file, 512 * 1024 + 3, 17)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "seed"), "--bind", "127.0.0.1"], { name: "pex-fuzzed seeder" });
}, 90_000);

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

function seeds(): Uint8Array[] {
  const v4 = Array.from({ length: 8 }, (_, i) => ({ ip: `127.0.${i}.${i + 20}`, port: 1000 + i, flags: i * 3 }));
  return [
    encodePexMessage({ added: v4, dropped: [{ ip: "127.0.0.9", port: 9 }] }),
    encodePexMessage({ added: [{ ip: "::1", port: 6881, flags: 0x12 }, ...v4.slice(0, 2)], dropped: [{ ip: "::1", port: 7 }] }),
    encode({ added: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1]), "added.f": new Uint8Array([2]), dropped: new Uint8Array() }),
    encode({ added6: new Uint8Array(18), "added6.f": new Uint8Array([1]) }),
  ];
}

const loopback = (ip: string) => ip.startsWith("127.") || ip === "::1";

/** A mutated payload the seeder may dial every address of (or one it refuses whole). */
function safePayload(mutator: Mutator, fallback: Uint8Array[], rng: Rng): Uint8Array {
  for (let attempt = 0; attempt < 16; attempt++) {
    const payload = mutator.next(rng);
    try {
      if (decodePexMessage(payload).added.every((p) => loopback(p.ip))) return payload;
    } catch (error) {
      if (error instanceof WireError) return payload; // refused whole: nothing is dialled
      throw error;
    }
  }
  return rng.pick(fallback);
}

/** Handshake, extension handshake naming ut_pex, then the payload as a ut_pex message; the seeder's answer. */
async function exchange(payload: Uint8Array, rng: Rng): Promise<Uint8Array> {
  const stream = concat(
    encodeHandshake({
      reserved: new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0x04]),
      infoHash: meta.infoHash,
      peerId: new TextEncoder().encode(`-FZ0001-pex${rng.int(1e8)}`.padEnd(20, "z").slice(0, 20)),
    }),
    encodeMessage({ type: "extended", id: 0, payload: encode({ m: { [UT_PEX]: 2 }, p: 6881 }) }),
    encodeMessage({ type: "extended", id: SEEDER_PEX_ID, payload }),
  );
  return tcpExchange({
    port: seeder.port,
    localAddress: "127.0.0.2",
    quietMs: 150,
    send: (socket) => {
      const cut = 1 + rng.int(stream.length);
      socket.write(stream.subarray(0, cut));
      socket.write(stream.subarray(cut));
    },
  });
}

test(
  "btpeer: a seeder fed mutated ut_pex messages stays up, speaks valid protocol, learns within its caps, and still serves a real leecher",
  async () => {
    const corpus = seeds();
    const mutator = new Mutator(corpus, BENCODE_TOKENS, 1 << 14);
    // A well-formed message first: the path the fuzz goes down does learn peers.
    await exchange(corpus[0]!, new Rng(1));
    const first = await seeder.waitFor(isEvent("peers-learned"), 10_000);
    expect(first.added).toBe(8);
    let answered = 0;
    await runFuzz(
      "btpeer ut_pex",
      settings,
      (rng) => safePayload(mutator, corpus, rng),
      async (payload, rng) => {
        const reply = await exchange(payload, rng);
        if (reply.length > 0) answered++;
        const reader = new MessageReader(meta.pieceCount, { handshake() {}, message() {}, droppedBlock() {} });
        try {
          reader.feed(reply);
        } catch (error) {
          if (error instanceof WireError) throw new Error(`the seeder sent invalid wire protocol: ${error.code}: ${error.message}`);
          throw error;
        }
        if (seeder.service.hasExited) throw new Error(`the seeder exited: ${seeder.service.output()}`);
      },
      { shrinkAttempts: 20 },
    );
    expect(answered).toBeGreaterThan(settings.cases / 2);
    const learned = seeder.events().filter(isEvent("peers-learned"));
    for (const e of learned) expect(Number(e.added)).toBeLessThanOrEqual(25);
    expect(learned.reduce((n, e) => n + Number(e.added), 0)).toBeLessThanOrEqual(500);
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "out"), "--no-seed", "--peer", seeder.address], {
      name: "leecher after the fuzz",
    });
    const done = await leecher.waitFor(isEvent("completed"), 120_000);
    expect(done.have).toBe(done.pieces);
    expect(await sha256File(path.join(dir, "out", "data.bin"))).toBe(await sha256File(path.join(dir, "seed", "data.bin")));
    expect(seeder.service.hasExited).toBe(false);
  },
  fuzzTimeout(settings, 2000),
);
