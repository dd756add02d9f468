// The chunk Bun hands a socket's `data` event is freed as soon as the sink that read it says it kept none of
// it (SocketSink.chunksLetGo), and left alone otherwise. Checked on a real loopback socket: the sink keeps
// the chunk objects (only to look at them afterwards) and copies their bytes as they come.
import { afterEach, describe, expect, test } from "bun:test";
import { listenForPeers, type SocketSink } from "../../peer/net/sockets.ts";

class RecordingSink implements SocketSink {
  readonly chunks: Uint8Array[] = [];
  received = 0;
  bytes: number[] = [];
  constructor(readonly chunksLetGo: boolean) {}
  receive(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    for (const b of chunk) this.bytes.push(b);
  }
  drained(): void {}
  closed(): void {}
}

let stop: (() => void) | null = null;
afterEach(() => {
  stop?.();
  stop = null;
});

/** Sends `total` patterned bytes to a listener whose connections go to `sink`; resolves once all are read. */
async function deliver(sink: RecordingSink, total: number): Promise<void> {
  const listener = listenForPeers(0, "127.0.0.1", () => sink);
  stop = () => listener.stop(true);
  const payload = new Uint8Array(total).map((_, i) => i & 0xff);
  const client = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } });
  let sent = 0;
  while (sent < total) {
    sent += client.write(payload.subarray(sent));
    await Bun.sleep(1);
  }
  for (let i = 0; i < 5000 && sink.received < total; i++) await Bun.sleep(2);
  client.end();
  expect(sink.received).toBe(total);
  expect(sink.bytes.every((b, i) => b === (i & 0xff))).toBe(true);
}

describe("socket chunks", () => {
  test("are freed once a sink that lets them go has read them", async () => {
    const sink = new RecordingSink(true);
    await deliver(sink, 256 * 1024);
    expect(sink.chunks.length).toBeGreaterThan(0);
    // Detached: the buffer is gone, and every view of it reads as empty.
    for (const chunk of sink.chunks) {
      expect(chunk.byteLength).toBe(0);
      expect((chunk.buffer as ArrayBuffer & { detached: boolean }).detached).toBe(true);
    }
  });

  test("are left alone when the sink may keep them", async () => {
    const sink = new RecordingSink(false);
    await deliver(sink, 256 * 1024);
    expect(sink.chunks.length).toBeGreaterThan(0);
    let kept = 0;
    for (const chunk of sink.chunks) kept += chunk.byteLength;
    expect(kept).toBe(256 * 1024);
  });
});
