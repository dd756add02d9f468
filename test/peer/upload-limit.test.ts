// --upload-limit: the token bucket's arithmetic, and the uploader sending exactly what the budget allows
// on a clock the test moves by hand (so nothing here depends on how fast the machine is), with every
// block that does go out framed and filled correctly.
import { describe, expect, test } from "bun:test";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { BLOCK_SIZE, type WireMessage } from "../../shared/wire/types.ts";
import { TokenBucket } from "../../peer/net/token-bucket.ts";
import { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";
import { SPAN_PAYLOAD, Uploader } from "../../peer/upload/uploader.ts";
import { rateOption } from "../../peer/cli/command-args.ts";
import { ManualClock } from "../support/manual-clock.ts";
import { handshookConnection, recordingSocket } from "../support/unchoked-peer.ts";
import { until } from "../support/until.ts";

describe("TokenBucket", () => {
  test("starts full, spends, refills at its rate and never above its burst", () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, { burst: 500, now: clock.now });
    expect(bucket.available()).toBe(500);
    bucket.spend(500);
    expect(bucket.available()).toBe(0);
    clock.ms += 100; // 0.1 s at 1000 B/s
    expect(bucket.available()).toBe(100);
    clock.ms += 10_000;
    expect(bucket.available()).toBe(500);
  });

  test("says how long until a given amount is there", () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(2000, { burst: 1000, now: clock.now });
    bucket.spend(1000);
    expect(bucket.msUntil(500)).toBe(250);
    clock.ms += 250;
    expect(bucket.msUntil(500)).toBe(0);
  });

  test("the default burst is a twentieth of a second of rate, but never below the caller's minimum", () => {
    expect(new TokenBucket(20 * 1024 * 1024).burst).toBe(1024 * 1024);
    expect(new TokenBucket(100_000, { minBurst: SPAN_PAYLOAD }).burst).toBe(SPAN_PAYLOAD);
  });

  test("a rate that is not a positive number is refused", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new TokenBucket(bad)).toThrow(RangeError);
  });
});

describe("--upload-limit option", () => {
  test("reads binary units, per second or not", () => {
    expect(rateOption("--upload-limit", "500K")).toBe(500 * 1024);
    expect(rateOption("--upload-limit", "50M")).toBe(50 * 1024 * 1024);
    expect(rateOption("--upload-limit", "1.5M/s")).toBe(1.5 * 1024 * 1024);
    expect(rateOption("--upload-limit", "0")).toBeUndefined();
    expect(rateOption("--upload-limit", undefined)).toBeUndefined();
  });

  test("refuses words and rates below one block a second, naming the option", () => {
    expect(() => rateOption("--upload-limit", "fast")).toThrow(/--upload-limit wants bytes per second/);
    expect(() => rateOption("--upload-limit", "1000")).toThrow(/--upload-limit must be at least 16K/);
  });
});

const PIECE = 16 * BLOCK_SIZE;
const PIECES = 8;

function content(): Uint8Array {
  const bytes = new Uint8Array(PIECE * PIECES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >>> 14)) & 0xff;
  return bytes;
}

/** A seeding uploader; each peer added is unchoked, and its socket takes everything and keeps it. */
function seedingUploader(limit?: TokenBucket) {
  const data = content();
  const meta = { pieceLength: PIECE, pieceCount: PIECES, length: data.length } as Metainfo;
  const have = new Bitfield(PIECES);
  for (let i = 0; i < PIECES; i++) have.set(i);
  const reader = {
    readBlock(index: number, begin: number, length: number, into: Uint8Array, at: number) {
      into.set(data.subarray(index * PIECE + begin, index * PIECE + begin + length), at);
    },
  };
  const uploader = new Uploader(meta, have, reader, 4 * 1024 * 1024, limit);
  const addPeer = () => {
    const socket = recordingSocket(PIECES);
    const conn = handshookConnection(socket, PIECES, have);
    conn.send({ type: "unchoke" });
    const peer = new SwarmPeer(conn, 1024);
    /** The piece messages written to this peer's socket so far, each checked against the content. */
    const blocksSent = () => {
      const pieces = socket.messages().filter((m): m is Extract<WireMessage, { type: "piece" }> => m.type === "piece");
      for (const p of pieces) expect(p.block).toEqual(data.subarray(p.index * PIECE + p.begin, p.index * PIECE + p.begin + p.block.length));
      return pieces;
    };
    /** Asks for the first `count` blocks of the torrent, in order. */
    const request = (count: number) => {
      for (let b = 0; b < count; b++) expect(uploader.requested(peer, b >> 4, (b & 15) * BLOCK_SIZE, BLOCK_SIZE)).toBeNull();
    };
    return { peer, blocksSent, request };
  };
  return { uploader, addPeer };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Uploader with an upload limit", () => {
  test("sends the burst at once, then exactly what the clock has refilled, and every block it sends is right", async () => {
    const clock = new ManualClock();
    const burst = 4 * BLOCK_SIZE;
    const bucket = new TokenBucket(8 * BLOCK_SIZE, { burst, now: clock.now }); // 8 blocks a second
    const { uploader, addPeer } = seedingUploader(bucket);
    const a = addPeer();
    a.request(32);
    await turn();
    expect(uploader.uploaded).toBe(burst);
    // The clock stands still: the uploader's timer fires, finds no budget and sends nothing more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uploader.uploaded).toBe(burst);
    clock.ms += 250; // two blocks' worth
    await until(() => uploader.uploaded > burst, "the refill");
    expect(uploader.uploaded).toBe(burst + 2 * BLOCK_SIZE);
    clock.ms += 60_000; // a long quiet spell refills only up to the burst
    await until(() => uploader.uploaded > burst + 2 * BLOCK_SIZE, "the second refill");
    expect(uploader.uploaded).toBe(2 * burst + 2 * BLOCK_SIZE);
    // In request order: the first ten blocks of piece 0.
    expect(a.blocksSent().map((p) => p.begin / BLOCK_SIZE)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    uploader.stop();
  });

  test("peers waiting on the budget take turns: the one left out goes first at the next refill", async () => {
    const clock = new ManualClock();
    const burst = 4 * BLOCK_SIZE;
    const { uploader, addPeer } = seedingUploader(new TokenBucket(8 * BLOCK_SIZE, { burst, now: clock.now }));
    const a = addPeer();
    const b = addPeer();
    a.request(16);
    b.request(16);
    await turn();
    expect([a.blocksSent().length, b.blocksSent().length]).toEqual([4, 0]);
    clock.ms += 500; // one burst
    await until(() => uploader.uploaded > burst, "the refill");
    expect([a.blocksSent().length, b.blocksSent().length]).toEqual([4, 4]);
    clock.ms += 500;
    await until(() => uploader.uploaded > 2 * burst, "the next refill");
    expect([a.blocksSent().length, b.blocksSent().length]).toEqual([8, 4]);
    uploader.stop();
  });

  test("at higher rates it waits for a whole span (a tenth of a second's worth) instead of sending block by block", async () => {
    const clock = new ManualClock();
    const { uploader, addPeer } = seedingUploader(new TokenBucket(160 * BLOCK_SIZE, { burst: SPAN_PAYLOAD, now: clock.now }));
    const a = addPeer();
    a.request(64);
    await turn();
    expect(a.blocksSent().length).toBe(SPAN_PAYLOAD / BLOCK_SIZE);
    clock.ms += 50; // half a span's worth: not enough to send
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(a.blocksSent().length).toBe(SPAN_PAYLOAD / BLOCK_SIZE);
    clock.ms += 50;
    await until(() => a.blocksSent().length > SPAN_PAYLOAD / BLOCK_SIZE, "the next span");
    expect(a.blocksSent().length).toBe((2 * SPAN_PAYLOAD) / BLOCK_SIZE);
    uploader.stop();
  });

  test("without a limit the same requests all go out in the first turn", async () => {
    const { uploader, addPeer } = seedingUploader();
    const a = addPeer();
    a.request(32);
    await turn();
    expect(uploader.uploaded).toBe(32 * BLOCK_SIZE);
    expect(a.blocksSent().length).toBe(32);
  });
});
