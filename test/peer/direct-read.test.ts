// Direct reads: after Bun's own chunk, a connection reads what else the kernel holds into one reused
// buffer. Checked on a real loopback socket: the bytes arrive complete and in order, and most of them
// come the direct way (which is what keeps the peer's garbage, and so its memory, down).
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { directReadAvailable, readAvailable } from "../../peer/net/direct-read.ts";

const TOTAL = 64 * 1024 * 1024;

function pattern(): Uint8Array {
  const bytes = new Uint8Array(1 << 20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >>> 11)) & 0xff;
  return bytes;
}

describe("direct socket reads", () => {
  test.if(process.platform === "linux")("are available on Linux", () => {
    expect(directReadAvailable()).toBe(true);
  });

  test.if(process.platform === "linux")("a 64 MiB stream arrives whole and in order, mostly through the reused buffer", async () => {
    const block = pattern();
    const expected = createHash("sha256");
    for (let sent = 0; sent < TOTAL; sent += block.length) expected.update(block);
    let sent = 0;
    const pump = (s: { write(b: Uint8Array): number; end(): void }) => {
      while (sent < TOTAL) {
        const n = s.write(block.subarray(sent % block.length));
        sent += n;
        if (n === 0 || sent % block.length !== 0) return; // socket full: wait for drain
      }
      s.end();
    };
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: pump, drain: pump, data() {} } });
    const received = createHash("sha256");
    let viaBun = 0;
    let direct = 0;
    const done = Promise.withResolvers<void>();
    await Bun.connect({
      hostname: "127.0.0.1",
      port: server.port,
      socket: {
        binaryType: "uint8array",
        data(socket, chunk) {
          viaBun += chunk.length;
          received.update(chunk);
          // Bun's sockets have `fd` (bun-types does not declare it yet).
          const fd = (socket as unknown as { fd: number }).fd;
          direct += readAvailable(fd, (bytes) => {
            received.update(bytes);
            return true;
          });
        },
        close: () => done.resolve(),
      },
    });
    await done.promise;
    server.stop(true);
    expect(viaBun + direct).toBe(TOTAL);
    expect(received.digest("hex")).toBe(expected.digest("hex"));
    expect(direct).toBeGreaterThan(TOTAL / 2);
  });

  test("reads nothing from a socket that is not there", () => {
    expect(readAvailable(-1, () => true)).toBe(0);
  });
});
