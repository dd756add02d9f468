// Fuzz: the peer wire codec (shared/wire) and the connection's message reader
// (peer/net/message-reader.ts), on a peer's whole side of a connection, mutated.
// Codec: each step decodes a message whose bytes re-encode to exactly the frame, asks for more bytes
// within the frame bound (a length prefix over it is refused before anything is buffered), or throws
// a WireError with a known code; the same bytes at the end of a larger buffer decode the same (no read
// past the input). Reader: the stream cut into random chunks, with or without streaming blocks into
// a sink, delivers exactly what it delivers fed whole, and stops on the same WireError or none.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { bytesEqual, toHex } from "../../shared/bytes.ts";
import { decodeHandshake, decodeMessage, encodeMessage, maxFrameLength, WireError, type WireLimits, type WireMessage } from "../../shared/wire/codec.ts";
import { MessageReader } from "../../peer/net/message-reader.ts";
import type { BlockSink } from "../../peer/pieces/piece-assembly.ts";
import { install, metered, uninstall } from "./alloc-meter.ts";
import { WIRE_PIECES, wireStreams } from "./corpus.ts";
import { fuzzSettings, fuzzTimeout, heapAfterGc, Mutator, runFuzz, type Rng } from "./fuzz-kit.ts";

const CODES = new Set(["bad-protocol", "too-long", "bad-length", "bad-bitfield", "bad-index", "bad-request", "bad-extension"]);
const settings = fuzzSettings(2500);

beforeAll(install);
afterAll(uninstall);

function checkWireError(error: unknown, what: string): WireError {
  if (!(error instanceof WireError)) throw new Error(`${what} threw something other than a WireError: ${String(error)}`, { cause: error });
  if (!CODES.has(error.code) || error.message === "") throw new Error(`${what}: a WireError without a known code or message: ${error.code}`);
  return error;
}

/** One decode step's outcome, in a form two runs can be compared by. */
function step(bytes: Uint8Array, offset: number, limits: WireLimits): string {
  try {
    const d = offset === 0 ? decodeHandshake(bytes, 0) : decodeMessage(bytes, offset, limits);
    if ("need" in d) return `need ${d.need}`;
    return `size ${d.size} ${offset === 0 ? toHex((d.value as { infoHash: Uint8Array }).infoHash) : describe(d.value as WireMessage)}`;
  } catch (error) {
    return `error ${checkWireError(error, "the codec").code}`;
  }
}

function describe(m: WireMessage): string {
  return toHex(encodeMessage(m));
}

/** Decodes the whole input message by message, checking each step; returns the steps taken. */
function decodeAll(input: Uint8Array, limits: WireLimits): string[] {
  const steps: string[] = [];
  const bound = 4 + maxFrameLength(limits);
  let offset = 0;
  for (;;) {
    const outcome = step(input, offset, limits);
    steps.push(outcome);
    const [kind, n] = outcome.split(" ") as [string, string];
    if (kind === "error") return steps;
    const count = Number(n);
    const available = input.length - offset;
    if (kind === "need") {
      if (!(count > 0) || (offset > 0 && available + count > bound)) throw new Error(`asked for ${count} more bytes with ${available} there (bound ${bound})`);
      return steps;
    }
    if (!(count > 0 && count <= available)) throw new Error(`a message of ${count} bytes with ${available} there`);
    if (offset > 0 && outcome.slice(outcome.indexOf(" ", 5) + 1) !== toHex(input.subarray(offset, offset + count))) {
      throw new Error(`the message decoded at ${offset} does not re-encode to its ${count} bytes`);
    }
    offset += count;
  }
}

function checkCodec(input: Uint8Array, limits: WireLimits, rng: Rng): void {
  const run = metered(() => decodeAll(input, limits));
  if (run.threw) throw run.error;
  if (run.bytes > 2 * input.length + 4096) throw new Error(`decoding allocated ${run.bytes} bytes for ${input.length}`);
  // The same bytes followed by junk in one buffer: a decoder reading past its input would see the junk.
  const padded = new Uint8Array(input.length + 64);
  padded.set(input);
  padded.set(rng.bytes(64), input.length);
  const inPadded = decodeAll(padded.subarray(0, input.length), limits);
  if (inPadded.join() !== run.value!.join()) throw new Error(`decoding differs with bytes after the input: ${inPadded.at(-1)} vs ${run.value!.at(-1)}`);
}

/**
 * A sink keeping each streamed block in its own buffer. With `refuseAt` it stops wanting the block at
 * that part (another peer's copy won): the reader must then read the block to its end and drop it.
 */
class CollectingSink implements BlockSink {
  private block = new Uint8Array(0);
  private parts = 0;
  constructor(private readonly refuseAt = -1) {}
  writeBlockPart(_begin: number, at: number, bytes: Uint8Array): boolean {
    if (this.parts++ === this.refuseAt) return false;
    if (at === 0) this.block = new Uint8Array(16384);
    if (at + bytes.length > this.block.length) throw new Error(`the reader streamed ${at + bytes.length} bytes of a block`);
    this.block.set(bytes, at);
    return true;
  }
  endStream(_begin: number, length: number): Uint8Array {
    return this.block.subarray(0, length);
  }
}

/** Everything a reader delivers for `input` cut at the given chunk ends, and the error it stopped on. */
function readAll(input: Uint8Array, cuts: number[], stream: boolean, rng: Rng): string[] {
  const seen: string[] = [];
  const reader = new MessageReader(WIRE_PIECES, {
    handshake: (h) => seen.push(`handshake ${toHex(h.infoHash)}`),
    message: (m) => seen.push(describe(m)),
    blockSink: stream ? () => (rng.chance(0.8) ? new CollectingSink(rng.chance(0.2) ? rng.int(3) : -1) : null) : undefined,
    droppedBlock: (n) => seen.push(`dropped ${n}`),
  });
  let from = 0;
  for (const to of [...cuts, input.length]) {
    // A copy per chunk, as sockets hand over: the reader must not keep views of a chunk it did not copy.
    const chunk = input.slice(from, to);
    try {
      reader.feed(chunk);
    } catch (error) {
      seen.push(`error ${checkWireError(error, "the reader").code}`);
      reader.stop();
      return seen;
    }
    chunk.fill(0xee);
    from = to;
  }
  reader.stop();
  return seen;
}

function checkReader(input: Uint8Array, rng: Rng): void {
  const whole = readAll(input, [], false, rng);
  const cuts: number[] = [];
  for (let at = 0; at < input.length; ) {
    at += rng.chance(0.3) ? 1 + rng.int(8) : 1 + rng.int(20_000);
    if (at < input.length) cuts.push(at);
  }
  const run = metered(() => readAll(input, cuts, rng.chance(0.7), rng));
  if (run.threw) throw run.error;
  // The remainder buffer (a block and a bitfield), one block per sink, the chunk copies.
  const bound = 2 * input.length + 8 * 16384 + 4096;
  if (run.bytes > bound) throw new Error(`the reader allocated ${run.bytes} bytes for a ${input.length}-byte stream`);
  const chunked = run.value!;
  // A dropped block stands where the whole run delivers that piece: same place, same block length.
  const same = (event: string, k: number) => {
    const w = whole[k];
    if (event === w) return true;
    const dropped = /^dropped (\d+)$/.exec(event);
    return dropped !== null && w !== undefined && w.slice(8, 10) === "07" && w.length === 2 * (13 + Number(dropped[1]));
  };
  if (chunked.length !== whole.length || !chunked.every(same)) {
    const i = chunked.findIndex((s, k) => !same(s, k));
    throw new Error(
      `cut into ${cuts.length + 1} chunks the reader delivers differently at event ${i}: ${chunked[i]?.slice(0, 80)} vs ${whole[i]?.slice(0, 80)}`,
    );
  }
}

test(
  "wire: the codec decodes, asks for bounded more, or throws a WireError; the reader delivers the same whatever the chunking",
  async () => {
    const corpus = wireStreams();
    expect(readAll(corpus[0]!, [], false, null as unknown as Rng).some((e) => e.startsWith("error"))).toBe(false);
    const mutator = new Mutator(corpus, [], 1 << 17);
    const heapBefore = heapAfterGc();
    await runFuzz(
      "wire",
      settings,
      (rng) => mutator.next(rng),
      (input, rng) => {
        const limits: WireLimits = { pieceCount: rng.pick([WIRE_PIECES, 0, 1, 8, 100_000]), maxOther: rng.pick([1 << 16, 0, 1 << 20]) };
        checkCodec(input, limits, rng);
        checkReader(input, rng);
      },
    );
    expect(heapAfterGc() - heapBefore).toBeLessThan(256 * 1024 * 1024);
  },
  fuzzTimeout(settings, 5),
);

test("wire: the corpus stream round-trips through the reader unchanged", () => {
  const stream = wireStreams()[0]!;
  const events = readAll(
    stream,
    [1, 2, 70, 71, 100, 16400],
    true,
    { chance: (p: number) => p > 0.5, int: () => 0 } as unknown as Rng /* always a sink, never a refusal */,
  );
  expect(events[0]).toStartWith("handshake ");
  expect(bytesEqual(Uint8Array.from(Buffer.from(events.slice(1).join(""), "hex")), stream.subarray(68))).toBe(true);
});
