// MSE/PE's cost per byte: our RC4 over a stream of 16 KiB piece messages, in place and buffer to buffer
// (what MseSocket does on read and on write), against a plain copy of the same bytes and against
// node:crypto's native RC4 (BoringSSL in Bun), which returns a fresh buffer per call.
import crypto from "node:crypto";
import { Bench } from "tinybench";
import { mseRc4 } from "../../shared/mse/rc4.ts";
import { median, type Row } from "./table.ts";

export interface Rc4BenchOptions {
  rounds?: number;
  time?: number;
}

const BLOCK = 16 * 1024 + 13; // one piece message

export async function benchRc4(opts: Rc4BenchOptions = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 3;
  const stream = crypto.getRandomValues(new Uint8Array(BLOCK * 64)); // ~1 MiB
  const out = new Uint8Array(stream.length);
  const key = crypto.getRandomValues(new Uint8Array(20));
  const inPlace = mseRc4(key);
  const copying = mseRc4(key);
  const native = crypto.createCipheriv("rc4", key, null);
  native.update(new Uint8Array(1024));
  const perBlock = (f: (at: number) => void) => () => {
    for (let at = 0; at < stream.length; at += BLOCK) f(at);
  };
  const tasks = {
    inPlace: perBlock((at) => inPlace.apply(stream, at, at + BLOCK)),
    copying: perBlock((at) => copying.applyTo(stream, at, out, at, BLOCK)),
    copy: perBlock((at) => out.set(stream.subarray(at, at + BLOCK), at)),
    native: perBlock((at) => native.update(stream.subarray(at, at + BLOCK))),
  };
  const rates = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: opts.time ?? 300, warmupTime: 50 });
    for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result.state !== "completed") throw new Error(`${task.name}: ${task.result.state}`);
      rates.set(task.name, [...(rates.get(task.name) ?? []), task.result.throughput.p50]);
    }
  }
  const mbps = (name: string) => (median(rates.get(name)!) * stream.length) / 1e6;
  return [
    {
      figure: "MSE RC4 in place, 16 KiB piece messages (decrypting a read)",
      value: mbps("inPlace"),
      unit: "MB/s",
      reference: { label: "plain copy of the same bytes", value: mbps("copy") },
    },
    {
      figure: "MSE RC4 buffer to buffer, 16 KiB piece messages (encrypting a write)",
      value: mbps("copying"),
      unit: "MB/s",
      reference: { label: "node:crypto rc4 (native, new buffer per call)", value: mbps("native") },
    },
  ];
}
