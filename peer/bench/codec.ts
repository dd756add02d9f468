// Wire codec throughput: a stream of 16 KiB `piece` messages and a stream of small control messages,
// fed in awkward chunk sizes through the carry-buffer loop a connection uses, plus the encoders.
import { Bench } from "tinybench";
import {
  BLOCK_SIZE,
  decodeMessage,
  encodeMessage,
  encodeMessageInto,
  readFrame,
  WireFrame,
  writePieceHeader,
  type WireLimits,
  type WireMessage,
} from "../../shared/wire/codec.ts";
import { median, type Row } from "./table.ts";

const limits: WireLimits = { pieceCount: 100_000 };

function pieceStream(count: number): Uint8Array {
  const out = new Uint8Array(count * (13 + BLOCK_SIZE));
  const block = crypto.getRandomValues(new Uint8Array(BLOCK_SIZE));
  let at = 0;
  for (let i = 0; i < count; i++) at += encodeMessageInto({ type: "piece", index: i, begin: 0, block }, out, at);
  return out;
}

function controlStream(count: number): Uint8Array {
  const kinds: WireMessage[] = [
    { type: "have", index: 1234 },
    { type: "request", index: 77, begin: 16384, length: 16384 },
    { type: "interested" },
    { type: "cancel", index: 77, begin: 32768, length: 16384 },
    { type: "unchoke" },
    { type: "keep-alive" },
  ];
  const parts = Array.from({ length: count }, (_, i) => encodeMessage(kinds[i % kinds.length]!));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts `stream` into chunks the way a socket might deliver it (fresh views, like Bun's data events). */
function chunksOf(stream: Uint8Array, size: number): Uint8Array[] {
  const out = [];
  for (let i = 0; i < stream.length; i += size) out.push(stream.subarray(i, i + size));
  return out;
}

/**
 * The connection's read loop: decode whole messages from the chunk, carry a partial one over in a reused
 * buffer. `useFrame` decodes with the allocation-free readFrame instead of message objects.
 */
function makeDecoder(useFrame: boolean) {
  let carry = new Uint8Array(64 * 1024);
  let carryLength = 0;
  const frame = new WireFrame();
  let sink = 0;
  const take = (bytes: Uint8Array, offset: number): number => {
    if (useFrame) {
      const size = readFrame(bytes, offset, limits, frame);
      if (size > 0) sink += frame.id;
      return size;
    }
    const d = decodeMessage(bytes, offset, limits);
    if ("need" in d) return -d.need;
    sink += d.value.type.length;
    return d.size;
  };
  return (chunk: Uint8Array): number => {
    let offset = 0;
    let messages = 0;
    while (carryLength > 0) {
      const size = take(carry.subarray(0, carryLength), 0);
      if (size > 0) {
        carryLength = 0;
        messages++;
        break;
      }
      const n = Math.min(-size, chunk.length - offset);
      if (carryLength + n > carry.length) {
        const grown = new Uint8Array(Math.max(carry.length * 2, carryLength + n));
        grown.set(carry.subarray(0, carryLength));
        carry = grown;
      }
      carry.set(chunk.subarray(offset, offset + n), carryLength);
      carryLength += n;
      offset += n;
      if (offset === chunk.length && n < -size) return messages;
    }
    for (;;) {
      const size = take(chunk, offset);
      if (size < 0) break;
      offset += size;
      messages++;
    }
    carry.set(chunk.subarray(offset), 0);
    carryLength = chunk.length - offset;
    return messages + (sink === -1 ? 1 : 0);
  };
}

export interface CodecOptions {
  rounds?: number;
  time?: number;
}

export async function benchCodec(opts: CodecOptions = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 3;
  const pieces = pieceStream(64); // ~1 MiB
  const controls = controlStream(20_000);
  const controlCount = 20_000;
  // 1448: a TCP segment's payload; 65521: just under a typical socket read; 16400: just off a message.
  const pieceChunks = [1448, 16400, 65521].map((size) => ({ size, chunks: chunksOf(pieces, size) }));
  const controlChunks = chunksOf(controls, 1448);
  const copyTarget = new Uint8Array(pieces.length);
  const header = new Uint8Array(13);
  const block = new Uint8Array(BLOCK_SIZE);
  const requests = new Uint8Array(17 * 64);
  const request: WireMessage = { type: "request", index: 1, begin: 0, length: BLOCK_SIZE };

  const tasks: { name: string; bytes: number; messages: number; fn: () => void }[] = [];
  for (const { size, chunks } of pieceChunks) {
    for (const useFrame of [false, true]) {
      const decode = makeDecoder(useFrame);
      tasks.push({
        name: `decode 16 KiB pieces, ${size}-byte chunks, ${useFrame ? "readFrame" : "message objects"}`,
        bytes: pieces.length,
        messages: 64,
        fn: () => {
          for (const c of chunks) decode(c);
        },
      });
    }
  }
  const decodeControl = makeDecoder(false);
  tasks.push({
    name: "decode control messages, 1448-byte chunks",
    bytes: controls.length,
    messages: controlCount,
    fn: () => {
      for (const c of controlChunks) decodeControl(c);
    },
  });
  tasks.push({ name: "copy the same piece bytes once (memcpy reference)", bytes: pieces.length, messages: 64, fn: () => copyTarget.set(pieces) });
  tasks.push({
    name: "encode piece header (writePieceHeader, block sent as is)",
    bytes: 13 + BLOCK_SIZE,
    messages: 1,
    fn: () => writePieceHeader(header, 0, 1, 0, BLOCK_SIZE),
  });
  tasks.push({
    name: "encode piece by reframing copy (encodeMessage)",
    bytes: 13 + BLOCK_SIZE,
    messages: 1,
    fn: () => encodeMessage({ type: "piece", index: 1, begin: 0, block }),
  });
  tasks.push({
    name: "encode 64 requests into one buffer (encodeMessageInto)",
    bytes: requests.length,
    messages: 64,
    fn: () => {
      for (let at = 0; at < requests.length; at += 17) encodeMessageInto(request, requests, at);
    },
  });
  tasks.push({ name: "encode a request (encodeMessage, fresh bytes)", bytes: 17, messages: 1, fn: () => encodeMessage(request) });

  const rates = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: opts.time ?? 300, warmupTime: 50 });
    for (const t of tasks) bench.add(t.name, t.fn);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== "completed") throw new Error(`${task.name}: ${result.state}`);
      rates.set(task.name, [...(rates.get(task.name) ?? []), result.throughput.p50]);
    }
  }
  const ops = (name: string) => median(rates.get(name)!);
  const spec = (name: string) => tasks.find((t) => t.name === name)!;
  const mbps = (name: string) => (ops(name) * spec(name).bytes) / 1e6;
  const msgs = (name: string) => ops(name) * spec(name).messages;

  const memcpy = "copy the same piece bytes once (memcpy reference)";
  const rows: Row[] = [];
  for (const { size } of pieceChunks) {
    const objects = `decode 16 KiB pieces, ${size}-byte chunks, message objects`;
    const frames = `decode 16 KiB pieces, ${size}-byte chunks, readFrame`;
    rows.push({ figure: `codec: ${objects}`, value: mbps(objects), unit: "MB/s", reference: { label: "memcpy of the same bytes", value: mbps(memcpy) } });
    rows.push({ figure: `codec: ${frames}`, value: mbps(frames), unit: "MB/s", reference: { label: "message objects", value: mbps(objects) } });
  }
  const control = "decode control messages, 1448-byte chunks";
  rows.push({
    figure: `codec: ${control}`,
    value: msgs(control),
    unit: "msg/s",
    reference: { note: `${(controls.length / controlCount) | 0} bytes/message avg; ${(mbps(control)).toFixed(0)} MB/s` },
  });
  const header13 = "encode piece header (writePieceHeader, block sent as is)";
  const reframe = "encode piece by reframing copy (encodeMessage)";
  rows.push({ figure: `codec: ${header13}`, value: msgs(header13), unit: "msg/s", reference: { label: "reframing copy", value: msgs(reframe) } });
  const batch = "encode 64 requests into one buffer (encodeMessageInto)";
  const single = "encode a request (encodeMessage, fresh bytes)";
  rows.push({ figure: `codec: ${batch}`, value: msgs(batch), unit: "msg/s", reference: { label: "encodeMessage, fresh bytes", value: msgs(single) } });
  return rows;
}
