// Fuzz: a real btpeer seeder, over loopback TCP, from connections that speak mutated wire streams
// (a correct handshake most of the time, then a leecher's messages from the codec, mutated, written
// in random chunks). The seeder must never exit, everything it sends back must be valid wire
// protocol (or, to a stream that does not open like plain BitTorrent, an MSE receiver's first answer and
// nothing more), and afterwards a real btpeer leecher still downloads the whole torrent from it.
// The hostile connections come from 127.0.0.2: a ban holds for a whole address, the leecher is on 127.0.0.1.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { encodeHandshake, encodeMessage, WireError, type WireMessage } from "../../shared/wire/codec.ts";
import { classifyIncoming } from "../../shared/mse/classify.ts";
import { DH_BYTES } from "../../shared/mse/dh.ts";
import { MSE_PAD_MAX } from "../../shared/mse/methods.ts";
import { MessageReader } from "../../peer/net/message-reader.ts";
import { makeRandomFile, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, startBtpeer, type Btpeer } from "../peer/btpeer-harness.ts";
import { concat, fuzzSettings, fuzzTimeout, Mutator, runFuzz, type Rng, writeInPieces } from "./fuzz-kit.ts";
import { tcpExchange } from "../support/tcp-exchange.ts";
import { seedFixture } from "../support/seed-fixture.ts";

// Each case is a TCP connection to a real process: a fiftieth of the count the in-process targets run.
const base = fuzzSettings(2500);
const settings = { ...base, cases: Math.max(1, Math.floor(base.cases / 50)) };
const HOSTILE_HOST = "127.0.0.2";

let dir = "";
let torrent = "";
let meta: Metainfo;
let seeder: Btpeer;

beforeAll(async () => {
  ({ dir, torrent, meta } = await seedFixture("btpeer-fuzz-", "data.bin", 32 * 1024, (file) => makeRandomFile(file, 1024 * 1024 + 777, 5)));
  seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "seed")], { name: "fuzzed seeder" });
}, 90_000);

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

/** What a leecher says after the handshake: from the codec, every message type, some requests past the end. */
function leecherStreams(): Uint8Array[] {
  const last = meta.pieceCount - 1;
  const messages: WireMessage[][] = [
    [
      { type: "bitfield", bits: new Uint8Array(Math.ceil(meta.pieceCount / 8)) },
      { type: "interested" },
      { type: "request", index: 0, begin: 0, length: 16384 },
      { type: "request", index: last, begin: 0, length: 1 },
    ],
    [
      { type: "interested" },
      { type: "have", index: 1 },
      { type: "request", index: 2, begin: 16384, length: 16384 },
      { type: "cancel", index: 2, begin: 16384, length: 16384 },
      { type: "keep-alive" },
    ],
    [
      { type: "unknown", id: 20, payload: concat(new Uint8Array([0]), new TextEncoder().encode("d1:md6:ut_pexi1ee4:reqqi500ee")) },
      { type: "port", port: 6881 },
      { type: "not-interested" },
      { type: "choke" },
      { type: "unchoke" },
    ],
    [{ type: "interested" }, ...Array.from({ length: 40 }, (_, i): WireMessage => ({ type: "request", index: i % meta.pieceCount, begin: 0, length: 16384 }))],
  ];
  return messages.map((list) => concat(...list.map((m) => encodeMessage(m))));
}

/** Sends `stream` in random chunks, collects what the seeder answers until it closes or goes quiet. */
async function exchange(stream: Uint8Array, rng: Rng): Promise<Uint8Array> {
  return tcpExchange({
    port: seeder.port,
    localAddress: HOSTILE_HOST,
    quietMs: 300,
    send: (socket) => writeInPieces(socket, stream, rng, 16, 4096),
  });
}

/**
 * The seeder's side must be valid wire protocol: a handshake, then messages the codec accepts. A stream
 * whose first bytes are not a plain handshake's is taken for MSE (the seeder runs --encryption prefer): the
 * receiver answers with its DH value and padding, and never more, since noise never completes step 3.
 */
function checkReply(stream: Uint8Array, reply: Uint8Array): void {
  if (classifyIncoming(stream) === "mse") {
    if (reply.length > DH_BYTES + MSE_PAD_MAX) throw new Error(`an MSE opening got ${reply.length} bytes back, more than Yb and PadB`);
    return;
  }
  const reader = new MessageReader(meta.pieceCount, { handshake() {}, message() {}, droppedBlock() {} });
  try {
    reader.feed(reply);
  } catch (error) {
    if (error instanceof WireError) throw new Error(`the seeder sent invalid wire protocol: ${error.code}: ${error.message}`);
    throw error;
  }
}

test(
  "btpeer: a seeder fed mutated wire streams stays up, speaks valid protocol, and still serves a real leecher",
  async () => {
    const handshake = encodeHandshake({
      reserved: new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0]),
      infoHash: meta.infoHash,
      peerId: new TextEncoder().encode("-FZ0001-fuzzfuzzfuzz"),
    });
    const seeds = leecherStreams();
    const mutator = new Mutator(seeds, [], 1 << 17);
    const generate = (rng: Rng) => {
      // Mostly a correct handshake with mutated messages after it; sometimes the handshake is mutated too.
      if (rng.chance(0.85)) return concat(handshake, mutator.next(rng));
      return new Mutator([concat(handshake, rng.pick(seeds))]).next(rng);
    };
    let answered = 0;
    await runFuzz(
      "btpeer seeder",
      settings,
      generate,
      async (stream, rng) => {
        const reply = await exchange(stream, rng);
        if (reply.length > 0) answered++;
        checkReply(stream, reply);
        if (seeder.service.hasExited) throw new Error(`the seeder exited: ${seeder.service.output()}`);
      },
      { shrinkAttempts: 30 },
    );
    // Most connections got past the handshake and were answered: the fuzz reached the message handling.
    expect(answered).toBeGreaterThan(settings.cases / 2);
    expect(seeder.service.hasExited).toBe(false);
    const leecher = await startBtpeer(["download", torrent, "--out", path.join(dir, "out"), "--no-seed", "--peer", seeder.address], {
      name: "leecher after the fuzz",
    });
    const done = await leecher.waitFor(isEvent("completed"), 120_000);
    expect(done.have).toBe(done.pieces);
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(dir, "out", "data.bin"))).toBe(await sha256File(path.join(dir, "seed", "data.bin")));
    expect(seeder.service.hasExited).toBe(false);
  },
  fuzzTimeout(settings, 2000),
);
